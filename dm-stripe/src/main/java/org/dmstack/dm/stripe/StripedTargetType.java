package org.dmstack.dm.stripe;

import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxMapping;
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
 * The "striped" target (Linux's dm-stripe.c): the target is cut into chunks of
 * {@code chunk_size} sectors, dealt to the stripes in turn — chunk 0 to the first device, chunk 1
 * to the second, and so on round again. Any chunk size of at least one sector is accepted, as in
 * Linux today (powers of two are not required).
 *
 * <pre>{@code <start> <length> striped <num_stripes> <chunk_size> (<dev> <offset>){num_stripes}}</pre>
 *
 * Embedded, register it with {@code deviceMapper.targetTypes().register(new StripedTargetType())};
 * in a framework it is a service and device-mapper finds it by its keyword.
 */
@Component(service = TargetType.class)
public final class StripedTargetType implements TargetType {
    @Override
    public String name() {
        return "striped";
    }

    @Override
    public int[] version() {
        return new int[] {1, 6, 0};
    }

    /** stripe_ctr: {@code <num_stripes> <chunk_size> (<dev> <offset>){num_stripes}}, checked in Linux's order. */
    @Override
    public Target construct(TargetContext context) throws TargetException {
        List<String> args = context.args();
        if (args.size() < 2) throw new TargetException("Not enough arguments");
        TargetArgs as = context.argSet();
        long stripes = TargetArgs.kstrtouint(as.shift()).orElse(0);
        if (stripes == 0) throw new TargetException("Invalid stripe count");
        long chunk = TargetArgs.kstrtouint(as.shift()).orElse(0);
        if (chunk == 0) throw new TargetException("Invalid chunk_size");
        if (context.length() % stripes != 0) throw new TargetException("Target length not divisible by number of stripes");
        long width = context.length() / stripes;
        if (width % chunk != 0) throw new TargetException("Target length not divisible by chunk size");
        if (as.remaining() != 2 * stripes) throw new TargetException("Not enough destinations specified");

        BlockDevice[] devices = new BlockDevice[(int) stripes];
        long[] starts = new long[(int) stripes];
        for (int i = 0; i < stripes; i++) {
            String devname = as.shift();
            starts[i] = as.sector("Couldn't parse stripe destination");
            devices[i] = as.device(devname, "Couldn't parse stripe destination");
        }
        return Striped.of(context.begin(), width, chunk, devices, starts, context.tableEvent());
    }

    /**
     * One striped table line. Sectors called {@code offset} below count from the target's begin.
     * The mapping is chosen once, here: {@link Shifts} when the chunk size and the stripe count
     * are both powers of two (Linux's chunk_size_shift and stripes_shift/stripes_mask), otherwise
     * {@link Divisions} (Linux's sector_div). Everything else is shared.
     */
    abstract static sealed class Striped implements Target permits Striped.Shifts, Striped.Divisions {
        /** dm.h's DM_IO_ERROR_THRESHOLD: errors after this many on a stripe raise no more events. */
        static final int DM_IO_ERROR_THRESHOLD = 15;
        private final long begin;
        /** Sectors of the target on each stripe (length / stripes). */
        private final long width;
        final long chunk;
        final int stripes;
        final BlockDevice[] devices;
        private final long[] starts;
        /** I/O errors seen per stripe: status shows 'D' for a stripe once it is non-zero. */
        private final AtomicIntegerArray errors;
        /** dm_table_event, raised for each of a stripe's first errors (trigger_event). */
        private final Runnable tableEvent;

        Striped(long begin, long width, long chunk, BlockDevice[] devices, long[] starts, Runnable tableEvent) {
            this.begin = begin;
            this.width = width;
            this.chunk = chunk;
            this.stripes = devices.length;
            this.devices = devices;
            this.starts = starts;
            this.errors = new AtomicIntegerArray(stripes);
            this.tableEvent = tableEvent;
        }

        /** The fast path when both the chunk size and the stripe count are powers of two, the general one otherwise. */
        static Striped of(long begin, long width, long chunk, BlockDevice[] devices, long[] starts, Runnable tableEvent) {
            boolean shifts = Long.bitCount(chunk) == 1 && Integer.bitCount(devices.length) == 1;
            return shifts ? new Shifts(begin, width, chunk, devices, starts, tableEvent) : new Divisions(begin, width, chunk, devices, starts, tableEvent);
        }

        // stripe_map_sector, the one mapping every path uses: chunk n of the target is chunk
        // n / stripes of stripe n % stripes. Offsets are never negative.

        /** The stripe that holds target sector {@code offset}. */
        abstract int stripeOf(long offset);

        /** Where target sector {@code offset} is on its stripe, counted from the stripe's offset. */
        abstract long stripeSector(long offset);

        /** How far target sector {@code offset} is into its chunk. */
        abstract long chunkOffset(long offset);

        /** Shifts and masks, worked out once. */
        static final class Shifts extends Striped {
            private final int chunkShift;
            private final long chunkMask;
            private final int stripesShift;
            private final int stripesMask;

            // The same mapping in pages for DAX, when a chunk is whole pages and the target and every
            // stripe start on a page (pageShift -1 otherwise: the sector mapping then answers, EIO
            // where a page is not a page on its stripe): a DAX read pays for the code between two
            // copies, and this is the shortest that maps a page.
            private final int pageShift;
            private final long pageMask;
            private final long beginPage;
            private final long[] startPages;

            Shifts(long begin, long width, long chunk, BlockDevice[] devices, long[] starts, Runnable tableEvent) {
                super(begin, width, chunk, devices, starts, tableEvent);
                chunkShift = Long.numberOfTrailingZeros(chunk);
                chunkMask = chunk - 1;
                stripesShift = Integer.numberOfTrailingZeros(stripes);
                stripesMask = stripes - 1;
                boolean pages = chunk >= Units.PAGE_SECTORS && onPage(begin);
                for (long start : starts) pages &= onPage(start);
                pageShift = pages ? chunkShift - Units.PAGE_SECTORS_SHIFT : -1;
                pageMask = (chunk >>> Units.PAGE_SECTORS_SHIFT) - 1;
                beginPage = begin >>> Units.PAGE_SECTORS_SHIFT;
                startPages = new long[stripes];
                for (int i = 0; i < stripes; i++) startPages[i] = starts[i] >>> Units.PAGE_SECTORS_SHIFT;
            }

            private static boolean onPage(long sector) {
                return (sector & (Units.PAGE_SECTORS - 1)) == 0;
            }

            @Override
            int stripeOf(long offset) {
                return (int) (offset >>> chunkShift) & stripesMask;
            }

            @Override
            long stripeSector(long offset) {
                return (offset >>> chunkShift >>> stripesShift << chunkShift) | (offset & chunkMask);
            }

            @Override
            long chunkOffset(long offset) {
                return offset & chunkMask;
            }

            /** stripe_dax_pgoff with the shifts in pages: page n of the target is page n of the sector mapping. */
            @Override
            public void directAccess(long pgoff, long nrPages, DaxMapping map) {
                if (pageShift < 0) {
                    super.directAccess(pgoff, nrPages, map);
                    return;
                }
                long offset = pgoff - beginPage;
                int stripe = (int) (offset >>> pageShift) & stripesMask;
                long devicePgoff = startPages[stripe] + ((offset >>> pageShift >>> stripesShift << pageShift) | (offset & pageMask));
                Target.daxDevice(devices[stripe]).directAccess(devicePgoff, nrPages, map);
            }
        }

        /** Any chunk size and stripe count: divisions. */
        static final class Divisions extends Striped {
            Divisions(long begin, long width, long chunk, BlockDevice[] devices, long[] starts, Runnable tableEvent) {
                super(begin, width, chunk, devices, starts, tableEvent);
            }

            @Override
            int stripeOf(long offset) {
                return (int) (offset / chunk % stripes);
            }

            @Override
            long stripeSector(long offset) {
                return offset / chunk / stripes * chunk + offset % chunk;
            }

            @Override
            long chunkOffset(long offset) {
                return offset % chunk;
            }
        }

        /** Called for each clone; core has split it so it never leaves one chunk. */
        @Override
        public MapResult map(Bio bio) {
            switch (bio.op()) {
                case FLUSH -> {
                    bio.remap(devices[bio.targetBioNr()], bio.sector());
                    return MapResult.REMAPPED;
                }
                case DISCARD, WRITE_ZEROES -> {
                    return mapRange(bio, bio.targetBioNr());
                }
                default -> {
                    long offset = bio.sector() - begin;
                    int stripe = stripeOf(offset);
                    bio.remap(devices[stripe], starts[stripe] + stripeSector(offset));
                    return MapResult.REMAPPED;
                }
            }
        }

        /**
         * stripe_map_range: clone {@code stripe} of a discard or write-zeroes gets the part of the
         * range that stripe holds, which is one run of its device; a stripe holding none of it
         * ends its clone without I/O.
         */
        private MapResult mapRange(Bio bio, int stripe) {
            long offset = bio.sector() - begin;
            long first = rangeSector(offset, stripe);
            long end = rangeSector(offset + bio.sectors(), stripe);
            if (first >= end) {
                bio.endio(BlkStatus.OK);
                return MapResult.SUBMITTED;
            }
            bio.remap(devices[stripe], starts[stripe] + first, (end - first) << Units.SECTOR_SHIFT);
            return MapResult.REMAPPED;
        }

        /** stripe_map_range_sector: the first sector of {@code stripe} at or after target sector {@code offset}. */
        private long rangeSector(long offset, int stripe) {
            int holder = stripeOf(offset);
            long sector = stripeSector(offset);
            if (holder == stripe) return sector;
            sector -= chunkOffset(offset); // the start of this row's chunk on the stripe...
            return stripe < holder ? sector + chunk : sector; // ...which for an earlier stripe lies behind us
        }

        /**
         * stripe_end_io: an I/O error marks every stripe on the failed device (not "not
         * supported"), and raises a table event for each while its count is below
         * DM_IO_ERROR_THRESHOLD (15).
         */
        @Override
        public void endIo(Bio bio, BlkStatus status) {
            if (status.isOk() || status.code() == BlkStatus.Code.NOTSUPP || bio.device() == null) return;
            DevT failed = bio.device().devt();
            for (int i = 0; i < stripes; i++) {
                if (devices[i].devt().equals(failed) && errors.incrementAndGet(i) < DM_IO_ERROR_THRESHOLD) tableEvent.run();
            }
        }

        /**
         * INFO: {@code <stripes> <maj:min>... 1 <A|D>...} — each device followed by a space, the
         * group count 1, then one letter per stripe with no spaces: A alive, D once it saw an error.
         * TABLE: {@code <stripes> <chunk_size> (<maj:min> <offset>)...}.
         */
        @Override
        public String status(StatusType type) {
            StringBuilder sb = new StringBuilder().append(stripes);
            switch (type) {
                case INFO -> {
                    sb.append(' ');
                    for (BlockDevice d : devices) sb.append(d.devt()).append(' ');
                    sb.append("1 ");
                    for (int i = 0; i < stripes; i++) sb.append(errors.get(i) > 0 ? 'D' : 'A');
                }
                case TABLE -> {
                    sb.append(' ').append(chunk);
                    for (int i = 0; i < stripes; i++) sb.append(' ').append(devices[i].devt()).append(' ').append(Long.toUnsignedString(starts[i]));
                }
            }
            return sb.toString();
        }

        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            for (int i = 0; i < stripes; i++) visitor.visit(devices[i], starts[i], width);
        }

        /**
         * stripe_io_hints: io_min is one chunk, io_opt a full row of chunks (in bytes), both
         * worked out in 6.1's unsigned int, so a chunk of 4 GiB or a row past it wraps.
         */
        @Override
        public void ioHints(QueueLimits limits) {
            long chunkBytes = (chunk << Units.SECTOR_SHIFT) & 0xffff_ffffL;
            limits.setIoMin(chunkBytes);
            limits.setIoOpt((chunkBytes * stripes) & 0xffff_ffffL);
        }

        @Override
        public long maxIoLen() {
            return chunk;
        }

        @Override
        public int numFlushBios() {
            return stripes;
        }

        @Override
        public int numDiscardBios() {
            return stripes;
        }

        @Override
        public int numWriteZeroesBios() {
            return stripes;
        }

        @Override
        public boolean supportsDax() {
            return true;
        }

        // DAX: pgoff is a page of the mapped device; core has clamped nrPages to the chunk's end.

        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            long offset = pgoff * Units.PAGE_SECTORS - begin;
            int stripe = stripeOf(offset);
            Target.daxDevice(devices[stripe]).directAccess(devicePgoff(stripe, offset), nrPages, map);
        }

        /** stripe_dax_pgoff: the page on {@code stripe} (which holds {@code offset}) for it; EIO when not page aligned there. */
        private long devicePgoff(int stripe, long offset) {
            return Target.daxPgoff(devices[stripe], starts[stripe] + stripeSector(offset));
        }
    }
}
