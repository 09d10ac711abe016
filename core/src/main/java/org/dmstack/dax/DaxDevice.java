package org.dmstack.dax;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
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
 */
public final class DaxDevice {
    private final String name;
    private final DaxOperations ops;
    private final LongSupplier pages;
    private volatile boolean alive = true;
    private volatile boolean writeCache;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile Thread killer;
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
     * more than asked for (at least one). Inside an fs-dax operation, the device that turns out to
     * own the memory stays entered until the operation ends, so its copies need no entry of their
     * own; otherwise the device is entered for this call only.
     */
    public void directAccess(long pgoff, long nrPages, DaxMapping map) {
        enter();
        boolean keep = false;
        try {
            directAccessHeld(pgoff, nrPages, map);
            keep = map.inOperation && map.owner == this;
            if (keep) map.hold(this);
        } finally {
            if (!keep) exit();
        }
    }

    /**
     * dax_copy_from_iter: a DAX write of {@code bytes} from {@code iter} into what {@code map}
     * maps, from byte {@code offset} of it. The device that owns the memory copies: durably
     * (flushcache) when its DAX write cache is on.
     */
    public long copyFromIter(DaxMapping map, long offset, long bytes, IovIter iter) {
        DaxDevice owner = ownerOf(map);
        owner.enter();
        try {
            return owner.copyFromIterHeld(map, offset, bytes, iter);
        } finally {
            owner.exit();
        }
    }

    /** dax_copy_to_iter: a machine-check-safe DAX read of what {@code map} maps, from byte {@code offset} of it. */
    public long copyToIter(DaxMapping map, long offset, long bytes, IovIter iter) {
        DaxDevice owner = ownerOf(map);
        owner.enter();
        try {
            return owner.copyToIterHeld(map, offset, bytes, iter);
        } finally {
            owner.exit();
        }
    }

    /**
     * dax_flush: writes back CPU caches for a range of what {@code map} maps, and only when the DAX
     * write cache is on, here and on the device that owns the memory.
     */
    public void flush(DaxMapping map, long offset, long bytes) {
        if (!writeCache) return;
        DaxDevice owner = ownerOf(map);
        owner.enter();
        try {
            owner.flushHeld(map, offset, bytes);
        } finally {
            owner.exit();
        }
    }

    // The same calls for a caller that has already entered the device (fs-dax holds it across a
    // whole read or write, as Linux's dax_iomap_rw holds dax_read_lock): checked, not counted again.

    void directAccessHeld(long pgoff, long nrPages, DaxMapping map) {
        if (nrPages < 0) throw new DaxException(Errno.EINVAL, name + ": direct_access of a negative page count " + nrPages);
        checkPgoff(pgoff);
        long[] cell = calls.cell();
        CallCounts.add(cell, CallCounts.DIRECT_ACCESS);
        // A device below that answers too overwrites this: the deepest is the owner.
        map.owner = this;
        map.ownerPgoff = pgoff;
        map.ownerCalls = cell;
        ops.directAccess(pgoff, nrPages, map);
        // dax_direct_access never hands out more than was asked for.
        map.clamp(Math.max(1, nrPages));
    }

    long copyFromIterHeld(DaxMapping map, long offset, long bytes, IovIter iter) {
        checkCopy(map, offset, bytes);
        CallCounts.add(callsOf(map), CallCounts.COPY);
        return ops.copyFromIter(map.ownerPgoff + (offset >>> Units.PAGE_SHIFT), map.memory(), map.offset() + offset, bytes, iter);
    }

    long copyToIterHeld(DaxMapping map, long offset, long bytes, IovIter iter) {
        checkCopy(map, offset, bytes);
        CallCounts.add(callsOf(map), CallCounts.COPY);
        return ops.copyToIter(map.ownerPgoff + (offset >>> Units.PAGE_SHIFT), map.memory(), map.offset() + offset, bytes, iter);
    }

    void flushHeld(DaxMapping map, long offset, long bytes) {
        if (!writeCache) return;
        checkCopy(map, offset, bytes);
        CallCounts.add(callsOf(map), CallCounts.FLUSH);
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
     * kill_dax: no new calls start; returns when the calls in flight have finished. Calls after
     * this fail with ENXIO.
     */
    public void kill() {
        alive = false;
        killer = Thread.currentThread();
        while (inFlight.get() > 0) LockSupport.parkNanos(this, 100_000);
        killer = null;
    }

    /**
     * dax_read_lock for this device: fails with ENXIO when it is dead, and otherwise keeps
     * {@link #kill()} waiting until the matching {@link #exit()}.
     */
    void enter() {
        inFlight.incrementAndGet();
        if (!alive) {
            exit();
            throw new DaxException(Errno.ENXIO, name + ": DAX device is dead");
        }
    }

    void exit() {
        if (inFlight.decrementAndGet() == 0 && !alive) {
            Thread t = killer;
            if (t != null) LockSupport.unpark(t);
        }
    }

    private void checkPgoff(long pgoff) {
        long size = pages();
        if (pgoff < 0 || pgoff >= size) {
            throw new DaxException(Errno.ERANGE, name + ": page offset " + pgoff + " outside the device (" + size + " pages)");
        }
    }

    /**
     * This thread's call counts of the owner of {@code map}: inside fs-dax the mapping is the
     * thread's own and carries them from direct_access, so a copy need not look them up again.
     */
    private long[] callsOf(DaxMapping map) {
        return map.inOperation ? map.ownerCalls : calls.cell();
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
