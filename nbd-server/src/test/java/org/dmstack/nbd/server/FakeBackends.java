package org.dmstack.nbd.server;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Backends by name, added and removed by hand, as a driver (or core) comes and goes. */
public final class FakeBackends implements Backends {
    private final Map<String, MemBackend> byName = new TreeMap<>();
    private final List<Runnable> followers = new CopyOnWriteArrayList<>();

    public void add(MemBackend b) {
        synchronized (this) {
            byName.put(b.name, b);
        }
        followers.forEach(Runnable::run);
    }

    /** Withdraws the backend, then tells the server, as nbd-export does. */
    public void remove(String name) {
        MemBackend b;
        synchronized (this) {
            b = byName.remove(name);
        }
        if (b != null) b.withdraw();
        followers.forEach(Runnable::run);
    }

    @Override
    public synchronized Backend find(String source) {
        return byName.get(source);
    }

    @Override
    public synchronized List<String> names() {
        return List.copyOf(byName.keySet());
    }

    @Override
    public void follow(Runnable changed) {
        followers.add(changed);
    }

    @Override
    public void unfollow(Runnable changed) {
        followers.remove(changed);
    }
}
