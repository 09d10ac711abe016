package org.dmstack.block;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * A disk's I/O accounting, as Linux 6.1 keeps it for a bio-based disk (brd, pmem, dm): the
 * counters behind {@code /sys/block/NAME/stat} and {@code inflight}.
 *
 * <p>The rules are bdev_start_io_acct and bdev_end_io_acct's, with time in jiffies of one
 * millisecond (HZ=1000):
 * <ul>
 * <li>when a bio starts, its group (read, write, discard; WRITE_ZEROES is a write) counts one I/O
 *     and its sectors, it is in flight as a read or a write (op_is_write), and io_ticks advance;
 * <li>when it ends, its group gains the whole milliseconds it took, it leaves the in-flight
 *     count, and io_ticks advance (update_io_ticks: 1 at a start in a new millisecond, the time
 *     since the last stamp at an end);
 * <li>flushes are counted as blk-flush.c's blk_account_io_flush counts them: at completion, one
 *     I/O and its time in the flush group, nothing in flight. An empty FLUSH is one; a WRITE with
 *     PREFLUSH is a write and a flush. A disk without a write cache never sees them (the block
 *     layer drops them before accounting, as submit_bio_noacct does);
 * <li>merges are always 0: nothing merges bios here.
 * </ul>
 *
 * <p>The hot path takes no lock: counters are {@link LongAdder}s, a bio in flight is the
 * difference between I/Os started and ended (so a start and an end each touch two counters),
 * and the io_ticks stamp moves by compare-and-set at most once per millisecond.
 */
public final class DiskStats {
    /** Linux's stat groups (STAT_READ, STAT_WRITE, STAT_DISCARD, STAT_FLUSH). */
    static final int READ = 0, WRITE = 1, DISCARD = 2, FLUSH = 3;

    private static final VarHandle STAMP;

    static {
        try {
            STAMP = MethodHandles.lookup().findVarHandle(DiskStats.class, "stamp", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final LongSupplier jiffies;
    private final LongAdder[] ios = adders(4);
    private final LongAdder[] sectors = adders(4);
    private final LongAdder[] ticks = adders(4);
    /** I/Os ended, by direction (reads, writes): in flight is started minus ended. */
    private final LongAdder[] ended = adders(2);
    private final LongAdder ioTicks = new LongAdder();
    private volatile long stamp;

    /** @param jiffies a clock in milliseconds (any origin), read at every start and end */
    public DiskStats(LongSupplier jiffies) {
        this.jiffies = jiffies;
        this.stamp = jiffies.getAsLong();
    }

    /** The default clock: System.nanoTime in milliseconds. */
    public static long systemJiffies() {
        return System.nanoTime() / 1_000_000;
    }

    private static LongAdder[] adders(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) a[i] = new LongAdder();
        return a;
    }

    private static int group(BioOp op) {
        return switch (op) {
            case READ -> READ;
            case DISCARD -> DISCARD;
            case FLUSH -> FLUSH;
            case WRITE, WRITE_ZEROES -> WRITE;
        };
    }

    /** bdev_start_io_acct: returns the start time to hand to {@link #end}. */
    long start(BioOp op, long nrSectors) {
        long now = jiffies.getAsLong();
        int g = group(op);
        if (g == FLUSH) return now;
        updateIoTicks(now, false);
        ios[g].increment();
        if (nrSectors != 0) sectors[g].add(nrSectors);
        return now;
    }

    /** bdev_end_io_acct (and blk_account_io_flush for a flush or a PREFLUSH). */
    void end(BioOp op, boolean preflush, long start) {
        long now = jiffies.getAsLong();
        long duration = now - start;
        int g = group(op);
        if (g != FLUSH) {
            updateIoTicks(now, true);
            if (duration != 0) ticks[g].add(duration);
            ended[g == READ ? 0 : 1].increment();
        }
        if (g == FLUSH || preflush) {
            ios[FLUSH].increment();
            if (duration != 0) ticks[FLUSH].add(duration);
        }
    }

    /** update_io_ticks as of Linux 6.1: the disk was busy since the stamp. */
    private void updateIoTicks(long now, boolean end) {
        long s = stamp;
        if (now > s && STAMP.compareAndSet(this, s, now)) ioTicks.add(end ? now - s : 1);
    }

    /** The counters now, as part_stat_show reads them (each counter on its own, not a snapshot of all at one instant). */
    public Snapshot snapshot() {
        // Ended before started, so that in flight is never negative.
        long endedReads = ended[0].sum();
        long endedWrites = ended[1].sum();
        long[] io = new long[4];
        for (int g = 0; g < 4; g++) io[g] = ios[g].sum();
        long inFlightReads = io[READ] - endedReads;
        long inFlightWrites = io[WRITE] + io[DISCARD] - endedWrites;
        // part_stat_show: a disk busy right now has been busy up to now.
        if (inFlightReads + inFlightWrites > 0) updateIoTicks(jiffies.getAsLong(), true);
        long[] t = new long[4];
        long[] sec = new long[4];
        for (int g = 0; g < 4; g++) {
            t[g] = ticks[g].sum();
            sec[g] = sectors[g].sum();
        }
        return new Snapshot(io[READ], 0, sec[READ], t[READ],
                io[WRITE], 0, sec[WRITE], t[WRITE],
                inFlightReads + inFlightWrites, ioTicks.sum(), t[READ] + t[WRITE] + t[DISCARD] + t[FLUSH],
                io[DISCARD], 0, sec[DISCARD], t[DISCARD],
                io[FLUSH], t[FLUSH], inFlightReads, inFlightWrites);
    }

    /**
     * The 17 fields of {@code /sys/block/NAME/stat} in their order (Documentation/block/stat.rst),
     * times in milliseconds, and the two of {@code inflight}.
     */
    public record Snapshot(
            long readIos, long readMerges, long readSectors, long readTicks,
            long writeIos, long writeMerges, long writeSectors, long writeTicks,
            long inFlight, long ioTicks, long timeInQueue,
            long discardIos, long discardMerges, long discardSectors, long discardTicks,
            long flushIos, long flushTicks,
            long inFlightReads, long inFlightWrites) {

        /** All zero: a disk that has done nothing. */
        public static final Snapshot ZERO = new Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        /** The text of the stat file, as part_stat_show prints it (without the newline). */
        public String stat() {
            return String.format("%8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d %8d",
                    readIos, readMerges, readSectors, readTicks & 0xffffffffL,
                    writeIos, writeMerges, writeSectors, writeTicks & 0xffffffffL,
                    inFlight & 0xffffffffL, ioTicks & 0xffffffffL, timeInQueue & 0xffffffffL,
                    discardIos, discardMerges, discardSectors, discardTicks & 0xffffffffL,
                    flushIos, flushTicks & 0xffffffffL);
        }

        /** The text of the inflight file, as part_inflight_show prints it. */
        public String inflight() {
            return String.format("%8d %8d", inFlightReads, inFlightWrites);
        }

        /**
         * Reads a stat file's text back (11, 15 or 17 fields, as iostat reads older kernels'
         * files; the missing ones are 0). In flight by direction is not in it: reads are 0.
         *
         * @throws IllegalArgumentException for text that is not such a line
         */
        public static Snapshot parse(String text) {
            String[] f = text.strip().split("\\s+");
            if (f.length != 11 && f.length != 15 && f.length != 17) {
                throw new IllegalArgumentException("not a block stat line (" + f.length + " fields): " + text.strip());
            }
            long[] v = new long[17];
            try {
                for (int i = 0; i < f.length; i++) v[i] = Long.parseLong(f[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a block stat line: " + text.strip(), e);
            }
            return new Snapshot(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
                    v[11], v[12], v[13], v[14], v[15], v[16], 0, v[8]);
        }
    }
}
