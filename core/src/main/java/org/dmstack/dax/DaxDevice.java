package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.iov.IovIter;

/**
 * A DAX device, like Linux's struct dax_device: the operations of the layer that owns it, an
 * alive flag and the DAX write-cache flag. Every call checks its arguments and that the device is
 * alive; {@link #kill()} (device removal) waits for the calls in flight and makes later calls fail
 * with ENXIO. It is itself a {@link DaxOperations}: the checked entry point the layers above
 * use, and what is published as the device's dax_operations service.
 */
public final class DaxDevice implements DaxOperations {
    private final String name;
    private final DaxOperations ops;
    private final LongSupplier pages;
    private volatile boolean alive = true;
    private volatile boolean writeCache;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile Thread killer;
    // Calls that reached the driver, for the device's metrics.
    private final LongAdder directAccessCalls = new LongAdder();
    private final LongAdder copyCalls = new LongAdder();
    private final LongAdder flushCalls = new LongAdder();

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

    /** dax_direct_access. */
    @Override
    public DaxMapping directAccess(long pgoff, long nrPages) {
        enter();
        try {
            return directAccessHeld(pgoff, nrPages);
        } finally {
            exit();
        }
    }

    /** dax_copy_from_iter: a DAX write of {@code bytes} from {@code iter} into {@code addr}. */
    @Override
    public long copyFromIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        enter();
        try {
            return copyFromIterHeld(pgoff, addr, bytes, iter);
        } finally {
            exit();
        }
    }

    /** dax_copy_to_iter: a machine-check-safe DAX read. */
    @Override
    public long copyToIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        enter();
        try {
            return copyToIterHeld(pgoff, addr, bytes, iter);
        } finally {
            exit();
        }
    }

    /** dax_flush: writes back CPU caches for the range, and only when the write cache is on. */
    @Override
    public void flush(long pgoff, MemorySegment addr, long size) {
        if (!writeCache) return;
        enter();
        try {
            flushHeld(pgoff, addr, size);
        } finally {
            exit();
        }
    }

    // The same calls for a caller that has already entered the device (fs-dax holds it across a
    // whole read or write, as Linux's dax_iomap_rw holds dax_read_lock): checked, not counted again.

    DaxMapping directAccessHeld(long pgoff, long nrPages) {
        if (nrPages < 0) throw new DaxException(Errno.EINVAL, name + ": direct_access of a negative page count " + nrPages);
        checkPgoff(pgoff);
        directAccessCalls.increment();
        // dax_direct_access never hands out more than was asked for.
        return ops.directAccess(pgoff, nrPages).clamp(Math.max(1, nrPages));
    }

    long copyFromIterHeld(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        checkCopy(pgoff, addr, bytes);
        copyCalls.increment();
        return ops.copyFromIter(pgoff, addr, bytes, iter);
    }

    long copyToIterHeld(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        checkCopy(pgoff, addr, bytes);
        copyCalls.increment();
        return ops.copyToIter(pgoff, addr, bytes, iter);
    }

    void flushHeld(long pgoff, MemorySegment addr, long size) {
        if (!writeCache) return;
        checkCopy(pgoff, addr, size);
        flushCalls.increment();
        ops.flush(pgoff, addr, size);
    }

    /** direct_access calls that reached the driver. */
    public long directAccessCount() {
        return directAccessCalls.sum();
    }

    /** copy_from_iter and copy_to_iter calls that reached the driver. */
    public long copyCount() {
        return copyCalls.sum();
    }

    /** Flushes done (only with the DAX write cache on: otherwise dax_flush does nothing). */
    public long flushCount() {
        return flushCalls.sum();
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

    private void checkCopy(long pgoff, MemorySegment addr, long bytes) {
        if (bytes < 0) throw new DaxException(Errno.EINVAL, name + ": negative byte count " + bytes);
        if (bytes > addr.byteSize()) {
            throw new DaxException(Errno.EINVAL, name + ": " + bytes + " bytes do not fit the " + addr.byteSize() + " mapped at page " + pgoff);
        }
        checkPgoff(pgoff);
    }

    @Override
    public String toString() {
        return "dax:" + name;
    }
}
