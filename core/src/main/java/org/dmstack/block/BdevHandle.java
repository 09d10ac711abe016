package org.dmstack.block;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One open of a block device, as 6.1's blkdev_get_by_dev gives it: the device counts it among
 * its openers (bd_openers; for a mapped device, dm_blk_open's open_count) until {@link #close},
 * blkdev_put. A handle is put once: closing it again does nothing, so an opener that ends by
 * several ways at once never lets go of an open that is not its own.
 *
 * <p>The open is of the device number, as a Linux opener holds its block_device: a driver update
 * that withdraws the device and publishes it again leaves it open, and the opener goes on with
 * the device that came back ({@link #device}).
 */
public final class BdevHandle implements AutoCloseable {
    private final BlockDeviceRegistry registry;
    private final DevT devt;
    private final String holder;
    private final AtomicBoolean open = new AtomicBoolean(true);

    BdevHandle(BlockDeviceRegistry registry, DevT devt, String holder) {
        this.registry = registry;
        this.devt = devt;
        this.holder = holder;
    }

    public DevT devt() {
        return devt;
    }

    /** Who opened it, as a person would name them ("dd", "nbd client 127.0.0.1:40312"). */
    public String holder() {
        return holder;
    }

    /** The device now; null while it is away (its driver withdrew it and has not published it again). */
    public BlockDevice device() {
        return registry.lookup(devt);
    }

    public boolean isOpen() {
        return open.get();
    }

    /** blkdev_put: the device has one opener less; the first close only. */
    @Override
    public void close() {
        if (open.compareAndSet(true, false)) registry.put(this);
    }

    @Override
    public String toString() {
        return holder + " on " + devt + (open.get() ? "" : " (closed)");
    }
}
