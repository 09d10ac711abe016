package org.dmstack.memory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Page stores by name, owned by core so that they outlive the driver that uses them: a RAM disk
 * driver can be stopped and updated, and the new one finds each device's memory where the old one
 * left it. The driver releases a store when the device's configuration is removed.
 *
 * <p>Inside OSGi, every driver uses {@link #shared()}; embedded programs and tests may make their
 * own pools.
 */
public final class PagePool {
    private static final PagePool SHARED = new PagePool();

    private final Map<String, PageStore> stores = new ConcurrentHashMap<>();

    /** The pool of this JVM (of this core bundle, inside OSGi). */
    public static PagePool shared() {
        return SHARED;
    }

    /**
     * The store called {@code key}: the one already there, resized to {@code sizePages} if its size
     * differs (shrinking frees the pages past the new end), or a new empty one.
     */
    public synchronized PageStore open(String key, long sizePages) {
        PageStore store = stores.get(key);
        if (store == null) {
            store = new PageStore(key, sizePages);
            stores.put(key, store);
        } else if (store.sizePages() != sizePages) {
            store.resize(sizePages);
        }
        return store;
    }

    /** The store called {@code key}, or null. */
    public PageStore get(String key) {
        return stores.get(key);
    }

    /** Frees the store called {@code key} and all its memory; returns whether there was one. */
    public synchronized boolean release(String key) {
        PageStore store = stores.remove(key);
        if (store == null) return false;
        store.release();
        return true;
    }

    /** The keys of the stores that exist and start with {@code prefix}, sorted. */
    public List<String> keys(String prefix) {
        return stores.keySet().stream().filter(k -> k.startsWith(prefix)).sorted().toList();
    }

    /** The memory all stores hold (pages in use). */
    public long bytesHeld() {
        return stores.values().stream().mapToLong(PageStore::bytesHeld).sum();
    }
}
