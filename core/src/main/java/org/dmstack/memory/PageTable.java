package org.dmstack.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongConsumer;

/**
 * Pages by index, as a radix tree (Linux's brd keeps its pages in an xarray): 512 slots per node,
 * as many levels as the highest index needs, grown at the top. A lookup is a few array loads,
 * takes no lock and allocates nothing (a map keyed by {@code Long} boxes the index on every
 * lookup). Interior nodes stay once made; an empty slot is null.
 *
 * <p>Lookups may run at any time on any thread and see each page whole; changes ({@link #put},
 * {@link #remove}, {@link #clear}) must be made by one thread at a time (the caller's lock).
 */
final class PageTable<T> {
    private static final int BITS = 9;
    private static final int FANOUT = 1 << BITS;
    private static final int MASK = FANOUT - 1;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);

    /** The top node and how many levels hang from it (1: the top holds pages). */
    private record Root(Object[] node, int levels) {}

    private volatile Root root = new Root(new Object[FANOUT], 1);
    private volatile long size;

    /** The page at {@code index}, or null. */
    @SuppressWarnings("unchecked")
    T get(long index) {
        Root r = root;
        if (index < 0 || (r.levels * BITS < 63 && index >>> (r.levels * BITS) != 0)) return null;
        Object[] node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > 0; shift -= BITS) {
            node = (Object[]) SLOT.getAcquire(node, (int) (index >>> shift) & MASK);
            if (node == null) return null;
        }
        return (T) SLOT.getAcquire(node, (int) index & MASK);
    }

    /** Puts {@code page} at {@code index} (0 or more), replacing what was there. */
    void put(long index, T page) {
        if (index < 0) throw new IndexOutOfBoundsException("negative page index " + index);
        Root r = root;
        while (r.levels * BITS < 63 && index >>> (r.levels * BITS) != 0) {
            Object[] top = new Object[FANOUT];
            top[0] = r.node;
            r = new Root(top, r.levels + 1);
            root = r;
        }
        Object[] node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > 0; shift -= BITS) {
            int i = (int) (index >>> shift) & MASK;
            Object[] next = (Object[]) node[i];
            if (next == null) {
                next = new Object[FANOUT];
                SLOT.setRelease(node, i, next);
            }
            node = next;
        }
        int i = (int) index & MASK;
        if (node[i] == null) size = size + 1;
        SLOT.setRelease(node, i, page);
    }

    /** Removes and returns the page at {@code index}, or null when there was none. */
    @SuppressWarnings("unchecked")
    T remove(long index) {
        T page = get(index);
        if (page == null) return null;
        Root r = root;
        Object[] node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > 0; shift -= BITS) node = (Object[]) node[(int) (index >>> shift) & MASK];
        SLOT.setRelease(node, (int) index & MASK, null);
        size = size - 1;
        return page;
    }

    /** How many pages there are. */
    long size() {
        return size;
    }

    /** Calls {@code action} with the index of every page, in increasing order. */
    void forEachIndex(LongConsumer action) {
        Root r = root;
        walk(r.node, r.levels, 0, action);
    }

    private static void walk(Object[] node, int levels, long base, LongConsumer action) {
        for (int i = 0; i < FANOUT; i++) {
            Object slot = SLOT.getAcquire(node, i);
            if (slot == null) continue;
            long index = (base << BITS) | i;
            if (levels == 1) action.accept(index);
            else walk((Object[]) slot, levels - 1, index, action);
        }
    }

    /** Removes every page and node. */
    void clear() {
        root = new Root(new Object[FANOUT], 1);
        size = 0;
    }
}
