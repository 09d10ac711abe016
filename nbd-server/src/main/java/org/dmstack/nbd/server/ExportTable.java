package org.dmstack.nbd.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The exports a server offers. Either fixed backends, or backends found through a {@link
 * Backends} that may come and go: named exports bind to their source's backend whenever it is
 * there; with no names configured, every source is exported under its own name. While there is
 * no {@code Backends} at all (core being updated), every export is away.
 */
final class ExportTable {
    private final boolean everySource;
    private final boolean following;
    private final Map<String, Export> exports = new ConcurrentHashMap<>();
    private final Runnable changed = this::refresh;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private Backends backends; // under lock; null while away
    private volatile boolean closed; // set under lock

    private ExportTable(boolean following, boolean everySource) {
        this.following = following;
        this.everySource = everySource;
    }

    /** Exports of the sources of {@code Backends} given later ({@link #backends}); an empty list exports every source. */
    static ExportTable following(List<ExportSpec> specs) {
        ExportTable table = new ExportTable(true, specs.isEmpty());
        for (ExportSpec spec : specs) table.put(new Export(spec));
        return table;
    }

    /** Exports of backends that never change. */
    static ExportTable fixed(Map<ExportSpec, Backend> backends) {
        ExportTable table = new ExportTable(false, false);
        backends.forEach((spec, backend) -> {
            Export e = new Export(spec);
            e.bind(backend);
            table.put(e);
        });
        return table;
    }

    private void put(Export e) {
        if (exports.putIfAbsent(e.name(), e) != null) throw new IllegalArgumentException("Export '" + e.name() + "' is configured twice");
    }

    /**
     * Where backends come from from now on; null while there is nothing to ask (every export is
     * away, and its requests wait). Follow the new one first, then bind what it has.
     */
    void backends(Backends b) {
        if (!following) throw new IllegalStateException("an export table of fixed backends");
        lock.lock();
        try {
            if (closed || b == backends) return;
            if (backends != null) backends.unfollow(changed);
            backends = b;
            if (b != null) b.follow(changed);
            refresh();
            // Only now: a client waiting to choose an export must find it bound.
            if (b != null) arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Binds every export to its source's backend now (or none). */
    private void refresh() {
        lock.lock();
        try {
            Backends b = backends;
            if (b != null && everySource) {
                for (String name : b.names()) exports.computeIfAbsent(name, n -> new Export(new ExportSpec(n, n, false)));
            }
            for (Export e : exports.values()) e.bind(b == null ? null : b.find(e.spec.device()));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits up to {@code timeoutNanos} while there is nothing to find backends with (core being
     * updated), so that a client choosing an export then is answered once it is back, not told
     * the export is unknown. At once when backends are there, or fixed.
     */
    void awaitBackends(long timeoutNanos) throws InterruptedException {
        if (!following) return;
        lock.lock();
        try {
            long left = timeoutNanos;
            while (backends == null && !closed && left > 0) left = arrived.awaitNanos(left);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the server is stopping: clients still in the handshake are told so (NBD_REP_ERR_SHUTDOWN). */
    boolean isClosed() {
        return closed;
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            if (backends != null) backends.unfollow(changed);
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        exports.values().forEach(Export::shutdown);
    }

    /**
     * The export a client asks for by name, if its backend is there. The empty name (the
     * protocol's "default export") means the only export, when there is exactly one.
     */
    Export find(String name) {
        if (name.isEmpty()) {
            List<Export> all = available();
            return all.size() == 1 ? all.get(0) : null;
        }
        Export e = exports.get(name);
        return e != null && e.backend() != null ? e : null;
    }

    /** The exports whose backends are there, by name. */
    List<Export> available() {
        List<Export> list = new ArrayList<>();
        for (Export e : exports.values()) if (e.backend() != null) list.add(e);
        list.sort(Comparator.comparing(Export::name));
        return list;
    }

    /** Every export, with its backend or not. */
    List<Export> all() {
        List<Export> list = new ArrayList<>(exports.values());
        list.sort(Comparator.comparing(Export::name));
        return list;
    }

    /** Whether backends can be asked now (always, for fixed ones). */
    boolean hasBackends() {
        lock.lock();
        try {
            return !following || backends != null;
        } finally {
            lock.unlock();
        }
    }
}
