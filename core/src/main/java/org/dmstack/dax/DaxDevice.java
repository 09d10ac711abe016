package org.dmstack.dax;

import java.util.function.LongSupplier;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.iov.IovIter;
import org.dmstack.units.Units;

/**
 * A DAX device, like Linux's struct dax_device: the operations of the layer that owns it, an
 * alive flag and the DAX write-cache flag. Every call checks its arguments and that the device is
 * alive; {@link #kill()} (device removal) waits for the calls in flight and makes later calls fail
 * with ENXIO. It is the checked entry point the layers above use, and what is published as the
 * device's DAX service.
 *
 * <p>Calls are read-side sections of {@link DaxReadLock}, shared by all DAX devices as Linux's
 * dax_srcu is: a call through a stack of devices (an fs-dax read through dm-linear to pmem) enters
 * it once, at the top, and each device it reaches checks only that it is alive; a kill waits for
 * the sections that began before it, through whichever device above they came.
 */
public final class DaxDevice {
    private final String name;
    private final DaxOperations ops;
    private final LongSupplier pages;
    private volatile boolean alive = true;
    private volatile boolean writeCache;
    private volatile boolean readOnly;
    // Calls that reached the driver, for the device's metrics.
    private final CallCounts calls = new CallCounts();

    /**
     * @param pages the device's size in pages, asked on every call (a mapped device can grow)
     * @param writeCache whether CPU caches must be written back after DAX writes
     */
    public DaxDevice(String name, DaxOperations ops, LongSupplier pages, boolean writeCache) {
        this.name = name;
        this.ops = ops;
        this.pages = pages;
        this.writeCache = writeCache;
    }

    public String name() {
        return name;
    }

    /** Size in pages. */
    public long pages() {
        return pages.getAsLong();
    }

    public boolean alive() {
        return alive;
    }

    /** The DAX write cache (dax_write_cache_enabled): flushes are only done when it is on. */
    public boolean writeCache() {
        return writeCache;
    }

    /**
     * Whether the block device is read-only (set_disk_ro): a file system on it is mounted
     * read-only, so {@link FsDax} refuses writes and stores with EROFS. The driver's own calls
     * (direct_access, the copies) do not look at it, as in Linux.
     */
    public boolean readOnly() {
        return readOnly;
    }

    /** Set with the block device's read-only flag. */
    public void setReadOnly(boolean readOnly) {
        this.readOnly = readOnly;
    }

    /** dax_write_cache(): what sysfs dax/write_cache sets. */
    public void setWriteCache(boolean writeCache) {
        this.writeCache = writeCache;
    }

    /** dax_direct_access into a new mapping: for tools and tests (the I/O paths reuse theirs). */
    public DaxMapping directAccess(long pgoff, long nrPages) {
        DaxMapping map = new DaxMapping();
        directAccess(pgoff, nrPages, map);
        return map;
    }

    /**
     * dax_direct_access: maps up to {@code nrPages} pages from {@code pgoff} into {@code map}, never
     * more than asked for (at least one). Inside an fs-dax operation the caller is already in the
     * read-side section, which also keeps the owner of the memory alive until the copy is done;
     * otherwise this call is a section of its own.
     */
    public void directAccess(long pgoff, long nrPages, DaxMapping map) {
        if (map.inOperation) {
            directAccessHeld(pgoff, nrPages, map);
            return;
        }
        checkPgoff(pgoff);
        DaxReadLock.Reader reader = DaxReadLock.reader();
        int section = reader.lock();
        try {
            directAccessHeld(pgoff, nrPages, map);
        } finally {
            reader.unlock(section);
        }
    }

    /**
     * dax_copy_from_iter: a DAX write of {@code bytes} from {@code iter} into what {@code map}
     * maps, from byte {@code offset} of it. The device that owns the memory copies: durably
     * (flushcache) when its DAX write cache is on.
     */
    public long copyFromIter(DaxMapping map, long offset, long bytes, IovIter iter) {
        DaxDevice owner = ownerOf(map);
        DaxReadLock.Reader reader = DaxReadLock.reader();
        int section = reader.lock();
        try {
            return owner.copyFromIterHeld(map, offset, bytes, iter);
        } finally {
            reader.unlock(section);
        }
    }

    /** dax_copy_to_iter: a machine-check-safe DAX read of what {@code map} maps, from byte {@code offset} of it. */
    public long copyToIter(DaxMapping map, long offset, long bytes, IovIter iter) {
        DaxDevice owner = ownerOf(map);
        DaxReadLock.Reader reader = DaxReadLock.reader();
        int section = reader.lock();
        try {
            return owner.copyToIterHeld(map, offset, bytes, iter);
        } finally {
            reader.unlock(section);
        }
    }

    /**
     * dax_flush: writes back CPU caches for a range of what {@code map} maps, and only when the DAX
     * write cache is on, here and on the device that owns the memory.
     */
    public void flush(DaxMapping map, long offset, long bytes) {
        if (!writeCache) return;
        DaxDevice owner = ownerOf(map);
        DaxReadLock.Reader reader = DaxReadLock.reader();
        int section = reader.lock();
        try {
            owner.flushHeld(map, offset, bytes);
        } finally {
            reader.unlock(section);
        }
    }

    // The same calls inside a read-side section the caller holds (fs-dax holds one across a whole
    // read or write, as Linux's dax_iomap_rw holds dax_read_lock): each checks that this device is
    // alive, as dax_alive, and that is all a device below the top costs to enter. Whether a page
    // lies inside the device is the operations' to say (ERANGE), as in dax_direct_access: a walk
    // starts inside the device it was called on, and each layer maps only into the one below,
    // which checks; asking each level's size again cost a chain of loads per level per call.

    void directAccessHeld(long pgoff, long nrPages, DaxMapping map) {
        checkAlive();
        if (nrPages < 0) throw new DaxException(Errno.EINVAL, name + ": direct_access of a negative page count " + nrPages);
        if (pgoff < 0) throw new DaxException(Errno.ERANGE, name + ": negative page offset " + pgoff);
        CallCounts.add(map.cell(calls), CallCounts.DIRECT_ACCESS);
        ops.directAccess(pgoff, nrPages, map);
        // The device whose operations filled the mapping owns the memory: it is the first to see
        // the answer unclaimed on the way back up; the layers above it only mapped. (Nothing is
        // stored per level, and the reference only when it changes: see DaxMapping.)
        if (map.unclaimed) {
            map.unclaimed = false;
            if (map.owner != this) map.owner = this;
            map.ownerPgoff = pgoff;
        }
        // dax_direct_access never hands out more than was asked for.
        map.clamp(Math.max(1, nrPages));
    }

    long copyFromIterHeld(DaxMapping map, long offset, long bytes, IovIter iter) {
        checkAlive();
        checkCopy(map, offset, bytes);
        CallCounts.add(map.cell(calls), CallCounts.COPY);
        return ops.copyFromIter(map.ownerPgoff + (offset >>> Units.PAGE_SHIFT), map.memory(), map.offset() + offset, bytes, iter);
    }

    long copyToIterHeld(DaxMapping map, long offset, long bytes, IovIter iter) {
        checkAlive();
        checkCopy(map, offset, bytes);
        CallCounts.add(map.cell(calls), CallCounts.COPY);
        return ops.copyToIter(map.ownerPgoff + (offset >>> Units.PAGE_SHIFT), map.memory(), map.offset() + offset, bytes, iter);
    }

    void flushHeld(DaxMapping map, long offset, long bytes) {
        if (!writeCache) return;
        checkAlive();
        checkCopy(map, offset, bytes);
        CallCounts.add(map.cell(calls), CallCounts.FLUSH);
        ops.flush(map.ownerPgoff + (offset >>> Units.PAGE_SHIFT), map.memory(), map.offset() + offset, bytes);
    }

    /** direct_access calls that reached the driver. */
    public long directAccessCount() {
        return calls.sum(CallCounts.DIRECT_ACCESS);
    }

    /** copy_from_iter and copy_to_iter calls that reached the driver. */
    public long copyCount() {
        return calls.sum(CallCounts.COPY);
    }

    /** Flushes done (only with the DAX write cache on: otherwise dax_flush does nothing). */
    public long flushCount() {
        return calls.sum(CallCounts.FLUSH);
    }

    /**
     * kill_dax: no new calls start; returns when the calls in flight have finished (those that
     * reached this device through a device above it too). Calls after this fail with ENXIO.
     */
    public void kill() {
        alive = false;
        DaxReadLock.synchronize();
        DaxReadLock.forget(this);
    }

    private void checkAlive() {
        if (!alive) throw new DaxException(Errno.ENXIO, name + ": DAX device is dead");
    }

    private void checkPgoff(long pgoff) {
        long size = pages();
        if (pgoff < 0 || pgoff >= size) {
            throw new DaxException(Errno.ERANGE, name + ": page offset " + pgoff + " outside the device (" + size + " pages)");
        }
    }

    private DaxDevice ownerOf(DaxMapping map) {
        DaxDevice owner = map.owner;
        if (owner == null) throw new DaxException(Errno.EINVAL, name + ": the mapping was not filled by direct_access");
        return owner;
    }

    private void checkCopy(DaxMapping map, long offset, long bytes) {
        if (bytes < 0) throw new DaxException(Errno.EINVAL, name + ": negative byte count " + bytes);
        if (offset < 0 || offset > map.bytes() - bytes) {
            throw new DaxException(Errno.EINVAL, name + ": " + bytes + " bytes at " + offset + " do not fit the " + map.bytes() + " mapped at page "
                    + map.ownerPgoff);
        }
    }

    @Override
    public String toString() {
        return "dax:" + name;
    }
}
