package org.dmstack.block;

import org.dmstack.units.Units;

/**
 * A queue's I/O limits, as in Linux's struct queue_limits, and their stacking rules
 * (blk_stack_limits): a stacked device takes the largest block sizes and minimum I/O of the
 * devices below, the smallest non-zero max_sectors, and the least common multiple of the
 * optimal I/O sizes.
 */
public final class QueueLimits {
    /** No limit on the request size (Linux's UINT_MAX for stacking drivers). */
    public static final long UNLIMITED = 0xffffffffL;

    private int logicalBlockSize = Units.SECTOR_SIZE;
    private int physicalBlockSize = Units.SECTOR_SIZE;
    private long ioMin;
    private long ioOpt;
    private long maxSectors = UNLIMITED;
    private boolean dax;

    /** The limits a stacking driver starts from (blk_set_stacking_limits). */
    public static QueueLimits stacking() {
        return new QueueLimits();
    }

    /** Limits of a simple device: the given block sizes, io_min = physical block size. */
    public static QueueLimits of(int logicalBlockSize, int physicalBlockSize) {
        QueueLimits l = new QueueLimits();
        l.setLogicalBlockSize(logicalBlockSize);
        l.setPhysicalBlockSize(physicalBlockSize);
        return l;
    }

    public QueueLimits copy() {
        QueueLimits c = new QueueLimits();
        c.logicalBlockSize = logicalBlockSize;
        c.physicalBlockSize = physicalBlockSize;
        c.ioMin = ioMin;
        c.ioOpt = ioOpt;
        c.maxSectors = maxSectors;
        c.dax = dax;
        return c;
    }

    /**
     * Stacks the limits of a device below into these (Linux's blk_stack_limits). The DAX flag is
     * not stacked here: whether a stacked device can do DAX depends on its targets too.
     */
    public QueueLimits stack(QueueLimits bottom) {
        maxSectors = minNotZero(maxSectors, bottom.maxSectors);
        logicalBlockSize = Math.max(logicalBlockSize, bottom.logicalBlockSize);
        physicalBlockSize = Math.max(physicalBlockSize, bottom.physicalBlockSize);
        ioMin = Math.max(ioMin, bottom.ioMin);
        ioOpt = lcmNotZero(ioOpt, bottom.ioOpt);
        if (physicalBlockSize < logicalBlockSize) physicalBlockSize = logicalBlockSize;
        if (ioMin < physicalBlockSize) ioMin = physicalBlockSize;
        return this;
    }

    private static long minNotZero(long a, long b) {
        if (a == 0) return b;
        if (b == 0) return a;
        return Math.min(a, b);
    }

    static long lcmNotZero(long a, long b) {
        if (a == 0) return b;
        if (b == 0) return a;
        long x = a, y = b;
        while (y != 0) {
            long t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    public int logicalBlockSize() {
        return logicalBlockSize;
    }

    public int physicalBlockSize() {
        return physicalBlockSize;
    }

    /** minimum_io_size in bytes. */
    public long ioMin() {
        return ioMin;
    }

    /** optimal_io_size in bytes (0: none). */
    public long ioOpt() {
        return ioOpt;
    }

    /** Largest request in sectors. */
    public long maxSectors() {
        return maxSectors;
    }

    public boolean dax() {
        return dax;
    }

    public QueueLimits setLogicalBlockSize(int size) {
        requirePowerOfTwo("logical_block_size", size, Units.SECTOR_SIZE);
        logicalBlockSize = size;
        if (physicalBlockSize < size) physicalBlockSize = size;
        if (ioMin < physicalBlockSize) ioMin = physicalBlockSize;
        return this;
    }

    public QueueLimits setPhysicalBlockSize(int size) {
        requirePowerOfTwo("physical_block_size", size, Units.SECTOR_SIZE);
        physicalBlockSize = Math.max(size, logicalBlockSize);
        if (ioMin < physicalBlockSize) ioMin = physicalBlockSize;
        return this;
    }

    /** blk_limits_io_min: never below the physical block size. */
    public QueueLimits setIoMin(long bytes) {
        ioMin = Math.max(bytes, physicalBlockSize);
        return this;
    }

    /** blk_limits_io_opt. */
    public QueueLimits setIoOpt(long bytes) {
        ioOpt = bytes;
        return this;
    }

    public QueueLimits setMaxSectors(long sectors) {
        if (sectors <= 0) throw new IllegalArgumentException("max_sectors must be positive");
        maxSectors = sectors;
        return this;
    }

    public QueueLimits setDax(boolean dax) {
        this.dax = dax;
        return this;
    }

    private static void requirePowerOfTwo(String what, int size, int min) {
        if (size < min || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException(what + " must be a power of two of at least " + min + ", not " + size);
        }
    }

    @Override
    public String toString() {
        return "logical_block_size=" + logicalBlockSize + " physical_block_size=" + physicalBlockSize + " minimum_io_size=" + ioMin
                + " optimal_io_size=" + ioOpt + " max_sectors=" + maxSectors + " dax=" + (dax ? 1 : 0);
    }
}
