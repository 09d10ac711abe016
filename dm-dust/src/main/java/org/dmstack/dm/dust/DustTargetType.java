package org.dmstack.dm.dust;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetArgs;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "dust" target (Linux 6.1's dm-dust.c), for testing: maps like linear, and keeps a list of
 * bad blocks that, once enabled, fail reads as a disk's medium errors do, until the block is
 * written.
 *
 * <pre>{@code
 * <start> <length> dust <dev> <offset> <blksz>
 *
 *   blksz: bytes per block, a power of 2 from 512 up to the line's length (and at most 1 GiB)
 * }</pre>
 *
 * Messages ({@code dmsetup message NAME 0 ...}): {@code addbadblock <block> [<write fail count>]},
 * {@code removebadblock <block>}, {@code queryblock <block>}, {@code countbadblocks},
 * {@code listbadblocks}, {@code clearbadblocks}, {@code enable}, {@code disable}, {@code quiet}.
 * Block numbers count blocks of {@code <dev>} from its first sector. Linux writes many answers only
 * to the kernel log; here they are both the message's reply and a log line, in the kernel's words.
 */
@Component(service = TargetType.class)
public final class DustTargetType implements TargetType {
    /** Where dust's DMINFO and DMERR lines go. */
    interface KernelLog {
        void info(String line);

        void error(String line);
    }

    private static final Logger LOG = LoggerFactory.getLogger(DustTargetType.class);
    private static final long DUST_MAX_BLKSZ_SECTORS = 2097152;

    private final KernelLog log;

    public DustTargetType() {
        this(new KernelLog() {
            @Override
            public void info(String line) {
                LOG.info(line);
            }

            @Override
            public void error(String line) {
                LOG.error(line);
            }
        });
    }

    DustTargetType(KernelLog log) {
        this.log = log;
    }

    @Override
    public String name() {
        return "dust";
    }

    @Override
    public int[] version() {
        return new int[] {1, 0, 0};
    }

    /** dust_ctr: {@code <dev> <offset> <blksz>}, checked in 6.1's order (block size before offset, device last). */
    @Override
    public Target construct(TargetContext context) throws TargetException {
        List<String> argv = context.args();
        if (argv.size() != 3) throw new TargetException("Invalid argument count");
        OptionalLong size = TargetArgs.kstrtouint(argv.get(2));
        if (size.isEmpty() || size.getAsLong() == 0) throw new TargetException("Invalid block size parameter");
        long blksz = size.getAsLong();
        if (blksz < 512) throw new TargetException("Block size must be at least 512");
        if (Long.bitCount(blksz) != 1) throw new TargetException("Block size must be a power of 2");
        if (blksz >> 9 > Math.min(context.length(), DUST_MAX_BLKSZ_SECTORS)) throw new TargetException("Block size is too large");
        long start = TargetArgs.parseSector(argv.get(1), "Invalid device offset sector");
        BlockDevice device = context.argSet().device(argv.get(0), "Device lookup failed");
        return new Dust(device, start, context.begin(), context.length(), blksz, log);
    }

    /** One dust table line (dust_device). */
    static final class Dust implements Target {
        private final BlockDevice device;
        private final long start;
        private final long begin;
        private final long length;
        private final long blksz;
        private final long sectPerBlock;
        private final int sectPerBlockShift;
        private final KernelLog log;
        /** badblocklist: block number to write fail count (an unsigned char), in order; guarded by this. */
        private final TreeMap<Long, Integer> badBlocks = new TreeMap<>();
        private volatile boolean failReadOnBadBlock;
        private volatile boolean quiet;

        Dust(BlockDevice device, long start, long begin, long length, long blksz, KernelLog log) {
            this.device = device;
            this.start = start;
            this.begin = begin;
            this.length = length;
            this.blksz = blksz;
            this.sectPerBlock = blksz >> 9;
            this.sectPerBlockShift = Long.numberOfTrailingZeros(sectPerBlock);
            this.log = log;
        }

        /**
         * dust_map: every bio is remapped; once enabled, a read of a bad block fails and a write
         * to one uses up its write fail count, then clears it. The block is looked up from the
         * remapped sector for every bio, as Linux does: an empty flush (sector 0 before mapping)
         * lands on the block at the offset.
         */
        @Override
        public MapResult map(Bio bio) {
            long sector = start + (bio.sector() - begin);
            bio.remap(device, bio.sectors() > 0 ? sector : bio.sector());
            if (!failReadOnBadBlock) return MapResult.REMAPPED;
            long block = sector >>> sectPerBlockShift;
            return bio.op() == BioOp.READ ? mapRead(block) : mapWrite(block);
        }

        private synchronized MapResult mapRead(long block) {
            return badBlocks.containsKey(block) ? MapResult.KILL : MapResult.REMAPPED;
        }

        private synchronized MapResult mapWrite(long block) {
            Integer failCount = badBlocks.get(block);
            if (failCount == null) return MapResult.REMAPPED;
            if (failCount > 0) {
                badBlocks.put(block, failCount - 1);
                return MapResult.KILL;
            }
            badBlocks.remove(block);
            // 6.1 divides the block number by sectors per block a second time for this line.
            if (!quiet) log.info("block " + Long.divideUnsigned(block, sectPerBlock) + " removed from badblocklist by write");
            return MapResult.REMAPPED;
        }

        /** dust_message, its checks and its words in 6.1's order. */
        @Override
        public String message(List<String> argv) throws TargetException {
            switch (argv.size()) {
                case 1 -> {
                    String verb = argv.getFirst();
                    if (is(verb, "addbadblock") || is(verb, "removebadblock") || is(verb, "queryblock")) {
                        throw error(verb + " requires an additional argument");
                    } else if (is(verb, "disable")) {
                        failReadOnBadBlock = false;
                        return info("disabling read failures on bad sectors");
                    } else if (is(verb, "enable")) {
                        failReadOnBadBlock = true;
                        return info("enabling read failures on bad sectors");
                    } else if (is(verb, "countbadblocks")) {
                        synchronized (this) {
                            return "countbadblocks: " + badBlocks.size() + " badblock(s) found";
                        }
                    } else if (is(verb, "clearbadblocks")) {
                        return clearBadBlocks();
                    } else if (is(verb, "quiet")) {
                        quiet = !quiet;
                        return "";
                    } else if (is(verb, "listbadblocks")) {
                        return listBadBlocks();
                    }
                    throw unrecognized(verb);
                }
                case 2 -> {
                    long block = TargetArgs.scanU64(argv.get(1)).orElseThrow(Dust::invalidArgument);
                    checkInRange(block);
                    String verb = argv.getFirst();
                    if (is(verb, "addbadblock")) return addBlock(block, 0);
                    if (is(verb, "removebadblock")) return removeBlock(block);
                    if (is(verb, "queryblock")) return queryBlock(block);
                    throw unrecognized(verb);
                }
                case 3 -> {
                    long block = TargetArgs.scanU64(argv.get(1)).orElseThrow(Dust::invalidArgument);
                    long failCount = TargetArgs.scanU32(argv.get(2)).orElseThrow(Dust::invalidArgument);
                    if (failCount > 255) throw error("selected write fail count out of range");
                    checkInRange(block);
                    if (is(argv.getFirst(), "addbadblock")) return addBlock(block, (int) failCount);
                    throw unrecognized(argv.getFirst());
                }
                default -> throw error("invalid number of arguments '" + argv.size() + "'");
            }
        }

        private static boolean is(String word, String verb) {
            return word.equalsIgnoreCase(verb);
        }

        /** Block numbers up to and including the device's block count are taken, as 6.1 compares them. */
        private void checkInRange(long block) throws TargetException {
            long size = Long.divideUnsigned(device.capacity(), sectPerBlock);
            if (Long.compareUnsigned(block, size) > 0) throw error("selected block value out of range");
        }

        private synchronized String addBlock(long block, int failCount) throws TargetException {
            if (badBlocks.containsKey(block)) throw quietError("dust_add_block: block " + Long.toUnsignedString(block) + " already in badblocklist");
            badBlocks.put(block, failCount);
            return quietInfo("dust_add_block: badblock added at block " + Long.toUnsignedString(block) + " with write fail count " + failCount);
        }

        private synchronized String removeBlock(long block) throws TargetException {
            if (badBlocks.remove(block) == null) throw quietError("dust_remove_block: block " + Long.toUnsignedString(block) + " not found in badblocklist");
            return quietInfo("dust_remove_block: badblock removed at block " + Long.toUnsignedString(block));
        }

        private synchronized String queryBlock(long block) {
            return "dust_query_block: block " + Long.toUnsignedString(block) + (badBlocks.containsKey(block) ? " found" : " not found") + " in badblocklist";
        }

        private synchronized String clearBadBlocks() {
            boolean any = !badBlocks.isEmpty();
            badBlocks.clear();
            return any ? "dust_clear_badblocks: badblocks cleared" : "dust_clear_badblocks: no badblocks found";
        }

        private synchronized String listBadBlocks() {
            if (badBlocks.isEmpty()) return "No blocks in badblocklist";
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<Long, Integer> e : badBlocks.entrySet()) sb.append(Long.toUnsignedString(e.getKey())).append('\n');
            return sb.toString();
        }

        /** A DMINFO line: logged, and the reply. */
        private String info(String line) {
            log.info(line);
            return line;
        }

        /** A DMINFO line quiet mode silences: no log and no reply. */
        private String quietInfo(String line) {
            return quiet ? "" : info(line);
        }

        /** A DMERR line and -EINVAL. */
        private TargetException error(String line) {
            log.error(line);
            return new TargetException(line);
        }

        /** -EINVAL whose DMERR quiet mode silences. */
        private TargetException quietError(String line) {
            return quiet ? invalidArgument() : error(line);
        }

        private TargetException unrecognized(String verb) {
            return error("unrecognized message '" + verb + "' received");
        }

        /** -EINVAL where Linux logs nothing: dmsetup says only "Invalid argument". */
        private static TargetException invalidArgument() {
            return new TargetException("");
        }

        /** INFO: {@code <maj:min> fail_read_on_bad_block|bypass quiet|verbose}. TABLE: {@code <maj:min> <offset> <blksz>}. */
        @Override
        public String status(StatusType type) {
            return switch (type) {
                case INFO -> device.devt() + " " + (failReadOnBadBlock ? "fail_read_on_bad_block" : "bypass") + " " + (quiet ? "quiet" : "verbose");
                case TABLE -> device.devt() + " " + Long.toUnsignedString(start) + " " + blksz;
            };
        }

        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            visitor.visit(device, start, length);
        }

        /** dm_set_target_max_io_len(ti, sect_per_block): no bio spans two blocks. */
        @Override
        public long maxIoLen() {
            return sectPerBlock;
        }

        /** 6.1's dust does not set num_write_zeroes_bios. */
        @Override
        public int numWriteZeroesBios() {
            return 0;
        }
    }
}
