package org.dmstack.nbd.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An export and the backend that serves it right now. The backend may go away (its device's
 * driver, or core itself, is being updated) and come back; while it is away the export is
 * hidden from new clients, and the requests of connected clients wait for it, as a suspended
 * mapped device holds its bios.
 */
final class Export {
    final ExportSpec spec;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private volatile Backend backend;
    private volatile boolean shutdown;
    private final AtomicInteger waiting = new AtomicInteger();
    /** The sessions in transmission on this export, each holding the backend open; under lock. */
    private final List<Opener> openers = new ArrayList<>();

    /**
     * One session's open of the export ({@link Backend#open}). It follows the backend: when a new
     * one is bound (core came back after an update), the session opens it, then gives back its
     * open of the one before, so a device that stays never sees its count fall to 0 on the way.
     */
    final class Opener {
        private final String client;
        private Backend backend; // under lock
        private Backend.Opened opened; // under lock

        private Opener(String client) {
            this.client = client;
        }

        /** The session is over: its open goes back, once. */
        void close() {
            Backend.Opened was;
            lock.lock();
            try {
                if (!openers.remove(this)) return;
                was = opened;
                opened = null;
            } finally {
                lock.unlock();
            }
            // Outside the lock: the last close of a device may remove it (a deferred removal), and its
            // backend's withdrawal rebinds exports.
            if (was != null) was.close();
        }

        /** Opens {@code b} if it is not the one held; returns the open this replaced, to be closed outside the lock. */
        private Backend.Opened follow(Backend b) {
            if (b == null || b == backend) return null;
            Backend.Opened was = opened;
            opened = b.open(client);
            backend = b;
            return was;
        }
    }

    Export(ExportSpec spec) {
        this.spec = spec;
    }

    String name() {
        return spec.name();
    }

    /** Configured read-only, or its backend takes no writes now. */
    boolean readOnly() {
        Backend b = backend;
        return spec.readOnly() || (b != null && b.readOnly());
    }

    /** The backend now, or null while it is away. */
    Backend backend() {
        return backend;
    }

    /** The backend from now on; null: it went away. The sessions on the export open a new one. */
    void bind(Backend b) {
        if (backend == b) return;
        List<Backend.Opened> replaced = new ArrayList<>();
        lock.lock();
        try {
            backend = b;
            for (Opener o : openers) {
                Backend.Opened was = o.follow(b);
                if (was != null) replaced.add(was);
            }
            if (b != null) changed.signalAll();
        } finally {
            lock.unlock();
        }
        // On a thread of their own: the caller may hold the export table's lock, and a close may
        // call back into whoever keeps the device (its release), which may be waiting for that lock.
        if (!replaced.isEmpty()) Thread.ofVirtual().name("nbd-close-replaced").start(() -> replaced.forEach(Backend.Opened::close));
    }

    /**
     * A session begins on this export (the client chose it): it holds the backend open until
     * {@link Opener#close}, and the backend that replaces it when it is replaced.
     */
    Opener open(String client) {
        Opener o = new Opener(client);
        lock.lock();
        try {
            o.follow(backend);
            openers.add(o);
        } finally {
            lock.unlock();
        }
        return o;
    }

    /** {@code b} turned a request down, being withdrawn: the export is away until its replacement is bound. */
    void withdrawn(Backend b) {
        lock.lock();
        try {
            if (backend == b) backend = null;
        } finally {
            lock.unlock();
        }
    }

    /** The server is stopping: nobody waits for the backend any more. */
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
     * The backend, waiting until {@code deadline} (System.nanoTime) for it to come back when it
     * is away. Returns null when it did not come back in time or the server is stopping.
     */
    Backend await(long deadline) throws InterruptedException {
        Backend b = backend;
        if (b != null || shutdown) return shutdown ? null : b;
        waiting.incrementAndGet();
        lock.lock();
        try {
            long left = deadline - System.nanoTime();
            while ((b = backend) == null && !shutdown && left > 0) left = changed.awaitNanos(left);
            return shutdown ? null : b;
        } finally {
            lock.unlock();
            waiting.decrementAndGet();
        }
    }

    /** Requests waiting for the backend to come back. */
    int waiting() {
        return waiting.get();
    }

    /** What LIST and INFO show a person: "ram0 (1:0)". */
    String description() {
        Backend b = backend;
        String text = b == null ? spec.device() + " (away)" : b.description();
        return spec.readOnly() ? text + ", read-only" : text;
    }
}
