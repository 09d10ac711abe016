package org.dmstack.block;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;
import org.dmstack.memory.ThreadCounters;

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
 * <li>flushes depend on who accounts. A bio-based driver (pmem, dm) accounts the bio it is given
 *     with bio_start_io_acct, by op_stat_group of its op: an empty flush is a REQ_OP_WRITE with
 *     REQ_PREFLUSH (blkdev_issue_flush), so it counts as a write of 0 sectors, in flight as a
 *     write; PREFLUSH and FUA add nothing, and the flush fields stay 0. blk-mq (nbd) counts flushes
 *     as blk-flush.c's blk_account_io_flush does: at completion, one I/O and its time in the flush
 *     group, nothing in flight; an empty FLUSH is one; a WRITE with PREFLUSH, or with FUA on a disk
 *     that has a write cache but no FUA (blk-flush writes, then flushes), is a write and a flush.
 *     A disk without a write cache never sees them (submit_bio_noacct drops them before
 *     accounting);
 * <li>merges are always 0: nothing merges bios here.
 * </ul>
 *
 * <p>The hot path takes no lock and no atomic instruction, as Linux's per-CPU counters: each
 * thread adds to cells of its own ({@link ThreadCounters}), a reader sums them; a bio in flight
 * is the difference between I/Os started and ended, and the io_ticks stamp moves by
 * compare-and-set at most once per millisecond.
 */
public final class DiskStats {
    /** Linux's stat groups (STAT_READ, STAT_WRITE, STAT_DISCARD, STAT_FLUSH). */
    static final int READ = 0, WRITE = 1, DISCARD = 2, FLUSH = 3;
    // A cell's slots: ios, sectors and ticks by group, ended reads and writes, io_ticks, and (for
    // cancel, never summed) the stamp this thread's last start moved, or its start time if it moved none.
    private static final int IOS = 0, SECTORS = 4, TICKS = 8, ENDED = 12, IO_TICKS = 14, MOVED = 15, SLOTS = 16;

    private static final VarHandle STAMP;

    static {
        try {
            STAMP = MethodHandles.lookup().findVarHandle(DiskStats.class, "stamp", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final LongSupplier jiffies;
    private final boolean requests;
    private final ThreadCounters counters = new ThreadCounters(SLOTS);
    // bd_stamp: 0 when the disk is made (bdev_alloc's zeroed block_device), so its first I/O starts a millisecond of io_ticks.
    private volatile long stamp;

    /** A bio-based disk's counters (pmem, dm: bio_start_io_acct). */
    public DiskStats(LongSupplier jiffies) {
        this(jiffies, false);
    }

    /**
     * @param jiffies a clock in milliseconds (any origin), read at every start and end
     * @param requests whether flushes count as blk-mq counts requests (their own group), rather
     *     than as a bio-based driver's bio_start_io_acct counts its bios (an empty flush is a write)
     */
    public DiskStats(LongSupplier jiffies, boolean requests) {
        this.jiffies = jiffies;
        this.requests = requests;
    }

    /** The default clock: milliseconds, read from a field a ticker thread keeps current (see Jiffies). */
    public static long systemJiffies() {
        return Jiffies.get();
    }

    /** How many threads' cells are kept (for tests: ended threads' are folded away). */
    int cellCount() {
        return counters.cellCount();
    }

    private static void add(long[] cell, int slot, long value) {
        ThreadCounters.add(cell, slot, value);
    }

    /** op_stat_group, for a bio-based disk with FLUSH read as the REQ_OP_WRITE | REQ_PREFLUSH it stands for. */
    private int group(BioOp op) {
        return switch (op) {
            case READ -> READ;
            case DISCARD -> DISCARD;
            case FLUSH -> requests ? FLUSH : WRITE;
            case WRITE, WRITE_ZEROES -> WRITE;
        };
    }

    /** This thread's counters (only this thread may add to them). */
    long[] cell() {
        return counters.cell();
    }

    /** bdev_start_io_acct, on this thread's {@code cell}: returns the start time to hand to {@link #end}. */
    long start(long[] cell, BioOp op, long nrSectors) {
        long now = jiffies.getAsLong();
        int g = group(op);
        if (g == FLUSH) return now;
        cell[MOVED] = updateIoTicks(cell, now, false);
        add(cell, IOS + g, 1);
        add(cell, SECTORS + g, nrSectors);
        return now;
    }

    /**
     * bdev_end_io_acct (and, for blk-mq, blk_account_io_flush for a flush or a PREFLUSH; a
     * bio-based disk ignores {@code preflush}), on the ending thread's {@code cell}.
     */
    void end(long[] cell, BioOp op, boolean preflush, long start) {
        long now = jiffies.getAsLong();
        long duration = now - start;
        int g = group(op);
        if (g != FLUSH) {
            updateIoTicks(cell, now, true);
            add(cell, TICKS + g, duration);
            add(cell, ENDED + (g == READ ? 0 : 1), 1);
        }
        if (g == FLUSH || (preflush && requests)) {
            add(cell, IOS + FLUSH, 1);
            add(cell, TICKS + FLUSH, duration);
        }
    }

    /**
     * Takes back this thread's last {@link #start} (at {@code start}), whose I/O never reached
     * the driver (a target killed it: dm accounts only what it mapped): its I/O, sectors, place in
     * flight, and the io_ticks millisecond it began if no other I/O has moved the stamp since.
     */
    void cancel(long[] cell, BioOp op, long nrSectors, long start) {
        int g = group(op);
        if (g == FLUSH) return;
        add(cell, IOS + g, -1);
        add(cell, SECTORS + g, -nrSectors);
        // The millisecond the start began, unless another I/O has moved the stamp since.
        long before = cell[MOVED];
        if (before != start && STAMP.compareAndSet(this, start, before)) add(cell, IO_TICKS, -1);
    }

    /** update_io_ticks as of Linux 6.1: the disk was busy since the stamp. Returns the stamp it moved, or {@code now}. */
    private long updateIoTicks(long[] cell, long now, boolean end) {
        long s = stamp;
        // time_after(now, stamp)
        if (now - s > 0 && STAMP.compareAndSet(this, s, now)) {
            add(cell, IO_TICKS, end ? now - s : 1);
            return s;
        }
        return now;
    }

    /** The counters now, as part_stat_show reads them (each counter on its own, not a snapshot of all at one instant). */
    public Snapshot snapshot() {
        long[] t = counters.sum();
        long inFlightReads = Math.max(0, t[IOS + READ] - t[ENDED]);
        long inFlightWrites = Math.max(0, t[IOS + WRITE] + t[IOS + DISCARD] - t[ENDED + 1]);
        // part_stat_show: a disk busy right now has been busy up to now.
        if (inFlightReads + inFlightWrites > 0) {
            updateIoTicks(counters.cell(), jiffies.getAsLong(), true);
            t = counters.sum();
        }
        return new Snapshot(t[IOS + READ], 0, t[SECTORS + READ], t[TICKS + READ],
                t[IOS + WRITE], 0, t[SECTORS + WRITE], t[TICKS + WRITE],
                inFlightReads + inFlightWrites, t[IO_TICKS], t[TICKS + READ] + t[TICKS + WRITE] + t[TICKS + DISCARD] + t[TICKS + FLUSH],
                t[IOS + DISCARD], 0, t[SECTORS + DISCARD], t[TICKS + DISCARD],
                t[IOS + FLUSH], t[TICKS + FLUSH], inFlightReads, inFlightWrites);
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
