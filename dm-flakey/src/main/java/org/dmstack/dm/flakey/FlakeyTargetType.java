package org.dmstack.dm.flakey;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
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

/**
 * The "flakey" target (Linux 6.1's dm-flakey.c), for testing: maps like linear, and is reliable
 * for {@code <up interval>} seconds, then unreliable for {@code <down interval>} seconds, over
 * and over, counted from when the table line was constructed.
 *
 * <pre>{@code
 * <start> <length> flakey <dev> <offset> <up interval> <down interval> [<num_features> [<feature> [<args>]]...]
 *
 *   drop_writes                                 writes while down are acknowledged and thrown away
 *   error_writes                                writes while down fail with an I/O error
 *   corrupt_bio_byte <Nth_byte> <r|w> <value> <flags>
 *                                               while down, byte N (from 1) of each matching read
 *                                               (after it completes) or write (before it is sent)
 *                                               is set to value; flags is a mask of the bio's
 *                                               bi_opf bits that must all be set (0: every bio)
 * }</pre>
 *
 * While down and without features, every bio fails (EIO), flushes and discards included: they are
 * writes to Linux. With drop_writes or error_writes, reads pass. With corrupt_bio_byte, 6.1 still
 * fails the reads it does not corrupt, and the writes too unless the direction is w. Time comes
 * from a nanosecond clock, {@link System#nanoTime} unless one is given, so tests need no sleeps.
 */
@Component(service = TargetType.class)
public final class FlakeyTargetType implements TargetType {
    private final LongSupplier nanoClock;

    public FlakeyTargetType() {
        this(System::nanoTime);
    }

    /** A type whose targets read the time from {@code nanoClock} (monotonic nanoseconds). */
    public FlakeyTargetType(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    @Override
    public String name() {
        return "flakey";
    }

    @Override
    public int[] version() {
        return new int[] {1, 5, 0};
    }

    /** flakey_ctr: {@code <dev> <offset> <up interval> <down interval> [<features>]}. */
    @Override
    public Target construct(TargetContext context) throws TargetException {
        long startTime = nanoClock.getAsLong();
        if (context.args().size() < 4) throw new TargetException("Invalid argument count");
        TargetArgs as = context.argSet();
        String devname = as.shift();
        long start = as.sector("Invalid device sector");
        long up = as.read(0, 0xffff_ffffL, "Invalid up interval");
        // 6.1 reads the down interval with the up interval's dm_arg, error text included.
        long down = as.read(0, 0xffff_ffffL, "Invalid up interval");
        long period = (up + down) & 0xffff_ffffL;
        if (period == 0) throw new TargetException("Total (up + down) interval is zero");
        if (period < up) throw new TargetException("Interval overflow");
        Features features = parseFeatures(as);
        BlockDevice device = as.device(devname, "Device lookup failed");
        return new Flakey(device, start, context.begin(), context.length(), up, period, features, startTime, nanoClock);
    }

    /** What the feature arguments asked for (flakey_c's flags and corrupt_bio_* fields). */
    record Features(boolean dropWrites, boolean errorWrites, long corruptBioByte, boolean corruptWrites, int corruptBioValue, long corruptBioFlags) {}

    /** parse_features, in 6.1's order of checks. */
    private static Features parseFeatures(TargetArgs as) throws TargetException {
        boolean drop = false, error = false, corruptWrites = false;
        long corruptByte = 0, corruptFlags = 0;
        int corruptValue = 0;
        if (as.remaining() > 0) {
            long argc = as.group(0, 6, "Invalid number of feature args");
            // argc is unsigned in Linux: a corrupt_bio_byte that reads past the group's count
            // leaves it "negative", and the loop runs on into "Insufficient feature arguments".
            while (argc != 0) {
                String name = as.shift();
                argc--;
                if (name == null) throw new TargetException("Insufficient feature arguments");
                if (name.equalsIgnoreCase("drop_writes")) {
                    if (drop) throw new TargetException("Feature drop_writes duplicated");
                    if (error) throw new TargetException("Feature drop_writes conflicts with feature error_writes");
                    drop = true;
                } else if (name.equalsIgnoreCase("error_writes")) {
                    if (error) throw new TargetException("Feature error_writes duplicated");
                    if (drop) throw new TargetException("Feature error_writes conflicts with feature drop_writes");
                    error = true;
                } else if (name.equalsIgnoreCase("corrupt_bio_byte")) {
                    if (argc == 0) throw new TargetException("Feature corrupt_bio_byte requires parameters");
                    corruptByte = as.read(1, 0xffff_ffffL, "Invalid corrupt bio byte");
                    argc--;
                    // 6.1 dereferences a missing direction (an oops); later kernels refuse it so.
                    String direction = as.shift();
                    if (direction != null && direction.equalsIgnoreCase("w")) corruptWrites = true;
                    else if (direction != null && direction.equalsIgnoreCase("r")) corruptWrites = false;
                    else throw new TargetException("Invalid corrupt bio direction (r or w)");
                    argc--;
                    corruptValue = (int) as.read(0, 255, "Invalid corrupt value to write into bio byte (0-255)");
                    argc--;
                    corruptFlags = as.read(0, 0xffff_ffffL, "Invalid corrupt bio flags mask");
                    argc--;
                } else {
                    throw new TargetException("Unrecognised flakey feature requested");
                }
            }
        }
        if (drop && corruptWrites) throw new TargetException("drop_writes is incompatible with corrupt_bio_byte with the WRITE flag set");
        if (error && corruptWrites) throw new TargetException("error_writes is incompatible with corrupt_bio_byte with the WRITE flag set");
        return new Features(drop, error, corruptByte, corruptWrites, corruptValue, corruptFlags);
    }

    // Linux 6.1's bi_opf layout (blk_types.h), which corrupt_bio_byte's <flags> mask is matched against.
    static final long REQ_OP_READ = 0, REQ_OP_WRITE = 1, REQ_OP_DISCARD = 3, REQ_OP_WRITE_ZEROES = 9;
    static final long REQ_SYNC = 1L << 11, REQ_FUA = 1L << 17, REQ_PREFLUSH = 1L << 18;

    /** The bio's bi_opf as Linux would have it; dm's empty flush is REQ_OP_WRITE | REQ_PREFLUSH | REQ_SYNC. */
    static long opf(Bio bio) {
        long opf = switch (bio.op()) {
            case READ -> REQ_OP_READ;
            case WRITE -> REQ_OP_WRITE;
            case FLUSH -> REQ_OP_WRITE | REQ_PREFLUSH | REQ_SYNC;
            case DISCARD -> REQ_OP_DISCARD;
            case WRITE_ZEROES -> REQ_OP_WRITE_ZEROES;
        };
        if (bio.hasFlag(BioFlag.PREFLUSH)) opf |= REQ_PREFLUSH;
        if (bio.hasFlag(BioFlag.FUA)) opf |= REQ_FUA;
        return opf;
    }

    /** One flakey table line. */
    static final class Flakey implements Target {
        private final BlockDevice device;
        private final long start;
        private final long begin;
        private final long length;
        private final long up;
        private final long period;
        private final Features features;
        private final long startTime;
        private final LongSupplier nanoClock;

        Flakey(BlockDevice device, long start, long begin, long length, long up, long period, Features features, long startTime, LongSupplier nanoClock) {
            this.device = device;
            this.start = start;
            this.begin = begin;
            this.length = length;
            this.up = up;
            this.period = period;
            this.features = features;
            this.startTime = startTime;
            this.nanoClock = nanoClock;
        }

        /** flakey_map_sector. */
        private long mapSector(long sector) {
            return start + (sector - begin);
        }

        /** "Are we alive?": whole seconds since construction (an unsigned int in Linux), within one up + down period. */
        private boolean down() {
            long elapsed = TimeUnit.NANOSECONDS.toSeconds(nanoClock.getAsLong() - startTime) & 0xffff_ffffL;
            return elapsed % period >= up;
        }

        @Override
        public MapResult map(Bio bio) {
            if (!down()) return remap(bio);
            boolean corrupt = features.corruptBioByte() != 0;
            if (bio.op() == BioOp.READ) {
                if (!corrupt && !features.dropWrites() && !features.errorWrites()) return MapResult.KILL;
                return submitRead(bio);
            }
            if (features.dropWrites()) {
                bio.endio(BlkStatus.OK);
                return MapResult.SUBMITTED;
            }
            if (features.errorWrites()) {
                bio.endio(BlkStatus.ioerr(device.name() + ": flakey is down and errors writes (error_writes)"));
                return MapResult.SUBMITTED;
            }
            if (corrupt && features.corruptWrites()) {
                return flagsMatch(bio) && bio.op().hasData() ? submitCorruptedWrite(bio) : remap(bio);
            }
            return MapResult.KILL;
        }

        private MapResult remap(Bio bio) {
            // An empty flush has no sector to map; it just goes to the device.
            bio.remap(device, bio.sectors() > 0 ? mapSector(bio.sector()) : bio.sector());
            return MapResult.REMAPPED;
        }

        /**
         * A read while down goes to the device, and what flakey_end_io decides happens when it is
         * back; core's end hook cannot change a status, so the target sends its own clone.
         */
        private MapResult submitRead(Bio bio) {
            Bio lower = bio.clone(0, bio.size());
            lower.remap(device, mapSector(bio.sector()));
            lower.setEndIo((b, status) -> bio.endio(readEndIo(bio, status)));
            device.submit(lower);
            return MapResult.SUBMITTED;
        }

        /** flakey_end_io for a read submitted while down, as 6.1 has it. */
        private BlkStatus readEndIo(Bio bio, BlkStatus status) {
            if (!status.isOk()) return status;
            if (features.corruptBioByte() != 0 && !features.corruptWrites() && flagsMatch(bio)) {
                corruptBioData(bio.data());
                return status;
            }
            if (!features.dropWrites() && !features.errorWrites()) {
                return BlkStatus.ioerr(device.name() + ": flakey is down and errors reads");
            }
            return status;
        }

        /**
         * Linux 6.1 corrupts the writer's own pages; here the device gets the same bytes, from a
         * copy, and the caller's buffer stays as it was (later kernels clone the pages too).
         */
        private MapResult submitCorruptedWrite(Bio bio) {
            MemorySegment copy = Arena.ofAuto().allocate(bio.size());
            copy.copyFrom(bio.data());
            corruptBioData(copy);
            Bio lower = Bio.of(BioOp.WRITE, bio.flags(), mapSector(bio.sector()), copy, bio.size());
            lower.setEndIo((b, status) -> bio.endio(status));
            device.submit(lower);
            return MapResult.SUBMITTED;
        }

        /** all_corrupt_bio_flags_match. */
        private boolean flagsMatch(Bio bio) {
            return (opf(bio) & features.corruptBioFlags()) == features.corruptBioFlags();
        }

        /** corrupt_bio_data: byte Nth_byte (from 1) of the data, when the bio is that long. */
        private void corruptBioData(MemorySegment data) {
            long index = features.corruptBioByte() - 1;
            if (data != null && index < data.byteSize()) data.set(ValueLayout.JAVA_BYTE, index, (byte) features.corruptBioValue());
        }

        /**
         * INFO: nothing. TABLE: {@code <maj:min> <offset> <up> <down> <num_features> [<features>]},
         * each field followed by a space, as 6.1 prints it.
         */
        @Override
        public String status(StatusType type) {
            if (type == StatusType.INFO) return "";
            StringBuilder sb = new StringBuilder();
            sb.append(device.devt()).append(' ').append(Long.toUnsignedString(start)).append(' ').append(up).append(' ').append(period - up).append(' ');
            int drop = features.dropWrites() ? 1 : 0, error = features.errorWrites() ? 1 : 0;
            sb.append(drop + error + (features.corruptBioByte() > 0 ? 5 : 0)).append(' ');
            if (features.dropWrites()) sb.append("drop_writes ");
            else if (features.errorWrites()) sb.append("error_writes ");
            if (features.corruptBioByte() > 0) {
                sb.append("corrupt_bio_byte ").append(features.corruptBioByte()).append(' ').append(features.corruptWrites() ? 'w' : 'r')
                        .append(' ').append(features.corruptBioValue()).append(' ').append(features.corruptBioFlags()).append(' ');
            }
            return sb.toString();
        }

        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            visitor.visit(device, start, length);
        }

        /** 6.1's flakey does not set num_write_zeroes_bios. */
        @Override
        public int numWriteZeroesBios() {
            return 0;
        }
    }
}
