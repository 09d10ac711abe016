package org.dmstack.metrics;

/** A DAX-capable block device: the block device's attributes and its DAX calls that reached the driver. */
public interface DaxBlockDeviceMXBean extends BlockDeviceMXBean {
    long getDaxDirectAccessCalls();

    /** copy_from_iter and copy_to_iter. */
    long getDaxCopyCalls();

    /** Flushes done (none while the DAX write cache is off). */
    long getDaxFlushCalls();
}
