package org.dmstack.nbd.server;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;

/**
 * An export and the device it serves right now. The device may go away (its driver bundle is
 * being updated) and come back; while it is away the export is hidden from new clients, and
 * the requests of connected clients wait for it, as a suspended mapped device holds its bios.
 */
final class Export {
    final ExportSpec spec;
    private final DevT devt; // when the spec names the device by number
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile BlockDevice device;
    private volatile boolean shutdown;
    private final AtomicInteger waiting = new AtomicInteger();

    Export(ExportSpec spec) {
        this.spec = spec;
        this.devt = DevT.parse(spec.device());
    }

    /** Whether {@code d} is the device this export names. */
    boolean matches(BlockDevice d) {
        if (devt != null) return devt.equals(d.devt());
        String want = spec.device().startsWith("/dev/") ? spec.device().substring(5) : spec.device();
        return want.equals(d.name());
    }

    String name() {
        return spec.name();
    }

    boolean readOnly() {
        return spec.readOnly();
    }

    /** The device now, or null while it is away. */
    BlockDevice device() {
        return device;
    }

    void bind(BlockDevice d) {
        lock.lock();
        try {
            device = d;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void unbind(BlockDevice d) {
        lock.lock();
        try {
            if (device == d) device = null;
        } finally {
            lock.unlock();
        }
    }

    /** The server is stopping: nobody waits for the device any more. */
    void shutdown() {
        lock.lock();
        try {
            shutdown = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isShutdown() {
        return shutdown;
    }

    /**
     * The device, waiting up to {@code timeoutNanos} for it to come back when it is away.
     * Returns null when it did not come back in time or the server is stopping.
     */
    BlockDevice await(long timeoutNanos) throws InterruptedException {
        BlockDevice d = device;
        if (d != null || shutdown) return shutdown ? null : d;
        waiting.incrementAndGet();
        lock.lock();
        try {
            long left = timeoutNanos;
            while ((d = device) == null && !shutdown && left > 0) left = changed.awaitNanos(left);
            return shutdown ? null : d;
        } finally {
            lock.unlock();
            waiting.decrementAndGet();
        }
    }

    /** Requests waiting for the device to come back. */
    int waiting() {
        return waiting.get();
    }

    /** What LIST and INFO show a person: "ram0 (1:0)". */
    String description() {
        BlockDevice d = device;
        String text = d == null ? spec.device() + " (away)" : d.name() + " (" + d.devt() + ")";
        return spec.readOnly() ? text + ", read-only" : text;
    }
}
