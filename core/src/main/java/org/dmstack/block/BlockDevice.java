package org.dmstack.block;

import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A block device as the layers above see it: a name, a device number, a capacity, queue limits
 * and flags, a way to submit bios, and (when DAX-capable) a DAX device.
 *
 * <p>Drivers make one with {@link GenDisk}; stacking drivers may hand out handles that forward
 * to the device they stand for.
 */
@ProviderType
public interface BlockDevice {
    /** The kernel name: "ram0", "pmem1", "dm-0". */
    String name();

    DevT devt();

    /** Capacity in 512-byte sectors. */
    long capacity();

    /** A snapshot of the queue limits. */
    QueueLimits limits();

    /** The block queue's write cache: a FLUSH is needed for durability ("write back"). */
    boolean writeCache();

    /** The device honours FUA itself. */
    boolean fua();

    /**
     * Submits a bio. It always completes, through {@link Bio#endio}: a misaligned or empty bio with
     * INVAL and no memory touched, one beyond the end with IOERR (bio_check_eod), an operation the
     * limits do not offer with NOTSUPP, an I/O failure with IOERR.
     */
    void submit(Bio bio);

    /** The DAX device, or null when this device cannot do DAX. */
    DaxDevice dax();

    /** The device's bad sectors (empty for devices without media errors). */
    BadBlocks badBlocks();

    /** sysfs-like attributes below /sys/block/NAME. */
    Attributes attributes();

    /** Capacity in bytes. */
    default long sizeBytes() {
        return capacity() << Units.SECTOR_SHIFT;
    }
}
