package org.dmstack.metrics;

/**
 * A block device as JMX shows it: what {@code /sys/block/NAME/stat} and {@code inflight} count
 * (times in milliseconds; merges are always 0), its size, queue limits and both write-cache flags.
 * Every read is of the device now.
 */
public interface BlockDeviceMXBean {
    /** The kernel name: ram0, pmem1, dm-0. */
    String getName();

    /** major:minor. */
    String getDevt();

    /** The dm name of a mapped device, "" for others. */
    String getDmName();

    /** Capacity in 512-byte sectors. */
    long getSizeSectors();

    long getReadIos();

    long getReadMerges();

    long getReadSectors();

    long getReadTicks();

    long getWriteIos();

    long getWriteMerges();

    long getWriteSectors();

    long getWriteTicks();

    long getInFlight();

    long getIoTicks();

    long getTimeInQueue();

    long getDiscardIos();

    long getDiscardMerges();

    long getDiscardSectors();

    long getDiscardTicks();

    long getFlushIos();

    long getFlushTicks();

    long getInFlightReads();

    long getInFlightWrites();

    /** The 17 fields of the stat file, in its order. */
    long[] getStat();

    int getLogicalBlockSize();

    int getPhysicalBlockSize();

    long getMinimumIoSize();

    long getOptimalIoSize();

    long getMaxSectorsKb();

    /** queue/write_cache: "write back" (true) or "write through". */
    boolean isWriteCache();

    boolean isFua();

    /** queue/dax: the device can do DAX now. */
    boolean isDax();

    /** dax/write_cache, false when the device cannot do DAX. */
    boolean isDaxWriteCache();
}
