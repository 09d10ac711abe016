package org.dmstack.block;

import org.dmstack.units.Units;

/**
 * A queue's I/O limits, as in Linux's struct queue_limits, and their stacking rules
 * (blk_stack_limits of Linux 6.1): a stacked device takes the largest block sizes and minimum
 * I/O of the devices below, the smallest non-zero request sizes, and the least common multiple of
 * the optimal I/O sizes; then whatever is not a multiple of the physical block size is corrected
 * (io_min becomes the physical block size, io_opt and chunk_sectors become 0) and the result is
 * marked misaligned, which sysfs shows as an alignment_offset of -1.
 */
public final class QueueLimits {
    /** No limit on the request size (Linux's UINT_MAX for stacking drivers). */
    public static final long UNLIMITED = 0xffffffffL;
    /** BLK_SAFE_MAX_SECTORS: max_sectors and max_hw_sectors of a driver that sets neither. */
    public static final long SAFE_MAX_SECTORS = 255;
    /** BLK_DEF_MAX_SECTORS: the most blk_queue_max_hw_sectors lets max_sectors be. */
    public static final long DEF_MAX_SECTORS = 2560;
    /** BLK_MAX_SEGMENTS and BLK_MAX_SEGMENT_SIZE: blk_set_default_limits' segment limits. */
    public static final int MAX_SEGMENTS = 128, MAX_SEGMENT_SIZE = 65536;
    /** USHRT_MAX: blk_set_stacking_limits' segment counts. */
    private static final int STACKING_SEGMENTS = 0xffff;

    private int logicalBlockSize = Units.SECTOR_SIZE;
    private int physicalBlockSize = Units.SECTOR_SIZE;
    private long ioMin = Units.SECTOR_SIZE;
    private long ioOpt;
    private long maxSectors = SAFE_MAX_SECTORS;
    private long maxHwSectors = SAFE_MAX_SECTORS;
    private long chunkSectors;
    private long alignmentOffset;
    private boolean misaligned;
    private long maxWriteZeroesSectors;
    private long maxDiscardSectors;
    private long maxHwDiscardSectors;
    private long discardGranularity;
    private long discardAlignment;
    private int maxSegments = MAX_SEGMENTS;
    private int maxDiscardSegments = 1;
    private long maxSegmentSize = MAX_SEGMENT_SIZE;
    private boolean dax;

    private QueueLimits() {}

    /** The limits a stacking driver starts from (blk_set_stacking_limits): no size limits, inherited from below. */
    public static QueueLimits stacking() {
        QueueLimits l = new QueueLimits();
        l.maxSectors = UNLIMITED;
        l.maxHwSectors = UNLIMITED;
        l.maxWriteZeroesSectors = UNLIMITED;
        l.maxSegments = STACKING_SEGMENTS;
        l.maxDiscardSegments = STACKING_SEGMENTS;
        l.maxSegmentSize = UNLIMITED;
        return l;
    }

    /**
     * Limits of a simple device (blk_set_default_limits, then the given block sizes): io_min is
     * the physical block size, requests of at most {@link #SAFE_MAX_SECTORS}, no discard, no
     * write-zeroes.
     */
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
        c.maxHwSectors = maxHwSectors;
        c.chunkSectors = chunkSectors;
        c.alignmentOffset = alignmentOffset;
        c.misaligned = misaligned;
        c.maxWriteZeroesSectors = maxWriteZeroesSectors;
        c.maxDiscardSectors = maxDiscardSectors;
        c.maxHwDiscardSectors = maxHwDiscardSectors;
        c.discardGranularity = discardGranularity;
        c.discardAlignment = discardAlignment;
        c.maxSegments = maxSegments;
        c.maxDiscardSegments = maxDiscardSegments;
        c.maxSegmentSize = maxSegmentSize;
        c.dax = dax;
        return c;
    }

    /**
     * Stacks the limits of a device below, used from its sector {@code start}, into these (Linux
     * 6.1's blk_stack_limits). Where Linux returns -1 (and dm warns "caused an alignment
     * inconsistency") the result is {@link #misaligned()}. The DAX flag is not stacked here:
     * whether a stacked device can do DAX depends on its targets too.
     */
    public QueueLimits stack(QueueLimits b, long start) {
        maxSectors = minNotZero(maxSectors, b.maxSectors);
        maxHwSectors = minNotZero(maxHwSectors, b.maxHwSectors);
        maxWriteZeroesSectors = Math.min(maxWriteZeroesSectors, b.maxWriteZeroesSectors);
        maxSegments = (int) minNotZero(maxSegments, b.maxSegments);
        maxDiscardSegments = (int) minNotZero(maxDiscardSegments, b.maxDiscardSegments);
        maxSegmentSize = minNotZero(maxSegmentSize, b.maxSegmentSize);
        misaligned |= b.misaligned;

        long alignment = b.alignmentAt(start);
        if (alignmentOffset != alignment) {
            long top = Math.max(physicalBlockSize, ioMin) + alignmentOffset;
            long bottom = Math.max(b.physicalBlockSize, b.ioMin) + alignment;
            if (Math.max(top, bottom) % Math.min(top, bottom) != 0) {
                misaligned = true;
            }
        }

        logicalBlockSize = Math.max(logicalBlockSize, b.logicalBlockSize);
        physicalBlockSize = Math.max(physicalBlockSize, b.physicalBlockSize);
        ioMin = Math.max(ioMin, b.ioMin);
        ioOpt = lcmNotZero(ioOpt, b.ioOpt);
        if (b.chunkSectors != 0) chunkSectors = gcd(chunkSectors, b.chunkSectors);

        if ((physicalBlockSize & (logicalBlockSize - 1)) != 0) {
            physicalBlockSize = logicalBlockSize;
            misaligned = true;
        }
        if ((ioMin & (physicalBlockSize - 1)) != 0) {
            ioMin = physicalBlockSize;
            misaligned = true;
        }
        if ((ioOpt & (physicalBlockSize - 1)) != 0) {
            ioOpt = 0;
            misaligned = true;
        }
        if (((chunkSectors << Units.SECTOR_SHIFT) & (physicalBlockSize - 1)) != 0) {
            chunkSectors = 0;
            misaligned = true;
        }

        alignmentOffset = lcmNotZero(alignmentOffset, alignment) % Math.max(physicalBlockSize, ioMin);
        if ((alignmentOffset & (logicalBlockSize - 1)) != 0) {
            misaligned = true;
        }

        long lbsSectors = logicalBlockSize >> Units.SECTOR_SHIFT;
        maxSectors = maxSectors / lbsSectors * lbsSectors;
        maxHwSectors = maxHwSectors / lbsSectors * lbsSectors;

        if (b.discardGranularity != 0) {
            long discardAlignmentBelow = b.discardAlignmentAt(start);
            // Linux also notes discard_misaligned here, which nothing in sysfs shows.
            maxDiscardSectors = minNotZero(maxDiscardSectors, b.maxDiscardSectors);
            maxHwDiscardSectors = minNotZero(maxHwDiscardSectors, b.maxHwDiscardSectors);
            discardGranularity = Math.max(discardGranularity, b.discardGranularity);
            discardAlignment = lcmNotZero(discardAlignment, discardAlignmentBelow) % discardGranularity;
        }
        return this;
    }

    /** queue_limit_alignment_offset: where this device's alignment falls when used from {@code sector}. */
    private long alignmentAt(long sector) {
        long granularity = Math.max(physicalBlockSize, ioMin);
        long alignment = Long.remainderUnsigned(sector, granularity >> Units.SECTOR_SHIFT) << Units.SECTOR_SHIFT;
        return (granularity + alignmentOffset - alignment) % granularity;
    }

    /** queue_limit_discard_alignment. */
    private long discardAlignmentAt(long sector) {
        long granularity = discardGranularity >> Units.SECTOR_SHIFT;
        if (maxDiscardSectors == 0 || granularity == 0) return 0;
        long offset = Long.remainderUnsigned(sector, granularity);
        return ((granularity - offset + (discardAlignment >> Units.SECTOR_SHIFT)) % granularity) << Units.SECTOR_SHIFT;
    }

    private static long minNotZero(long a, long b) {
        if (a == 0) return b;
        if (b == 0) return a;
        return Math.min(a, b);
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    static long lcmNotZero(long a, long b) {
        if (a == 0) return b;
        if (b == 0) return a;
        return a / gcd(a, b) * b;
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

    /** Largest request in sectors (max_sectors). */
    public long maxSectors() {
        return maxSectors;
    }

    /** Largest request the hardware takes, in sectors (max_hw_sectors). */
    public long maxHwSectors() {
        return maxHwSectors;
    }

    /** chunk_sectors: a boundary no request should cross (0: none). */
    public long chunkSectors() {
        return chunkSectors;
    }

    /** The alignment offset sysfs shows: -1 when stacking found the limits misaligned (bdev_alignment_offset). */
    public long alignmentOffset() {
        return misaligned ? -1 : alignmentOffset;
    }

    public boolean misaligned() {
        return misaligned;
    }

    /** max_write_zeroes_sectors (0: no WRITE_ZEROES offload). */
    public long maxWriteZeroesSectors() {
        return maxWriteZeroesSectors;
    }

    /** max_discard_sectors (0: no discard). */
    public long maxDiscardSectors() {
        return maxDiscardSectors;
    }

    public long maxHwDiscardSectors() {
        return maxHwDiscardSectors;
    }

    /** discard_granularity in bytes. */
    public long discardGranularity() {
        return discardGranularity;
    }

    /** discard_alignment in bytes. */
    public long discardAlignment() {
        return discardAlignment;
    }

    /** max_segments: data segments in one request. */
    public int maxSegments() {
        return maxSegments;
    }

    /** max_discard_segments: ranges in one discard request. */
    public int maxDiscardSegments() {
        return maxDiscardSegments;
    }

    /** max_segment_size in bytes. */
    public long maxSegmentSize() {
        return maxSegmentSize;
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

    /**
     * blk_queue_max_hw_sectors: what the hardware takes; max_sectors follows it up to
     * {@link #DEF_MAX_SECTORS}. Both are rounded down to whole logical blocks.
     */
    public QueueLimits setMaxHwSectors(long sectors) {
        long lbsSectors = logicalBlockSize >> Units.SECTOR_SHIFT;
        sectors = Math.max(sectors, Units.PAGE_SECTORS);
        maxHwSectors = sectors / lbsSectors * lbsSectors;
        maxSectors = Math.min(maxHwSectors, DEF_MAX_SECTORS) / lbsSectors * lbsSectors;
        return this;
    }

    /** max_sectors itself (as sysfs's max_sectors_kb sets it); max_hw_sectors is raised to it if below. */
    public QueueLimits setMaxSectors(long sectors) {
        if (sectors <= 0) throw new IllegalArgumentException("max_sectors must be positive");
        maxSectors = sectors;
        if (maxHwSectors < sectors) maxHwSectors = sectors;
        return this;
    }

    /** blk_queue_max_segments and blk_queue_max_segment_size. */
    public QueueLimits setSegments(int maxSegments, long maxSegmentSize) {
        if (maxSegments < 1 || maxSegmentSize < 1) throw new IllegalArgumentException("segment limits must be positive");
        this.maxSegments = maxSegments;
        this.maxSegmentSize = maxSegmentSize;
        return this;
    }

    /** What sysfs's discard_max_bytes sets: at most max_hw_discard_sectors. */
    public QueueLimits setMaxDiscardSectors(long sectors) {
        maxDiscardSectors = Math.min(sectors, maxHwDiscardSectors);
        return this;
    }

    /** blk_queue_chunk_sectors. */
    public QueueLimits setChunkSectors(long sectors) {
        chunkSectors = sectors;
        return this;
    }

    /** blk_queue_max_write_zeroes_sectors. */
    public QueueLimits setMaxWriteZeroesSectors(long sectors) {
        maxWriteZeroesSectors = sectors;
        return this;
    }

    /** blk_queue_max_discard_sectors with the granularity it goes with (0, 0: no discard). */
    public QueueLimits setDiscard(long maxSectors, long granularityBytes) {
        maxDiscardSectors = maxSectors;
        maxHwDiscardSectors = maxSectors;
        discardGranularity = granularityBytes;
        return this;
    }

    /** What dm_table_set_restrictions does when the table cannot discard. */
    public QueueLimits clearDiscard() {
        maxDiscardSectors = 0;
        maxHwDiscardSectors = 0;
        discardGranularity = 0;
        discardAlignment = 0;
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
                + " optimal_io_size=" + ioOpt + " max_sectors=" + maxSectors + " max_hw_sectors=" + maxHwSectors
                + " alignment_offset=" + alignmentOffset() + " dax=" + (dax ? 1 : 0);
    }
}
