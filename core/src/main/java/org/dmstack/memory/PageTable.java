package org.dmstack.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongConsumer;

/**
 * Where each page is, by index, as a radix tree (Linux's brd keeps its pages in an xarray): 512
 * slots per node, as many levels as the highest index needs, grown at the top. A leaf holds ints,
 * not objects: the page's place in its store ({@link PageStore} numbers its slots from 1; 0 is an
 * empty slot), so a lookup is a few array loads and never touches an object per page. It takes no
 * lock and allocates nothing. Interior nodes and leaves stay once made.
 *
 * <p>Lookups may run at any time on any thread; changes ({@link #put}, {@link #remove},
 * {@link #clear}) must be made by one thread at a time (the caller's lock).
 */
final class PageTable {
    private static final int BITS = 9;
    private static final int FANOUT = 1 << BITS;
    private static final int MASK = FANOUT - 1;
    private static final VarHandle NODE = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle LEAF = MethodHandles.arrayElementVarHandle(int[].class);

    /** The top node and how many levels hang from it (1: the top is a leaf, an int[]). */
    private record Root(Object node, int levels) {}

    private volatile Root root = new Root(new int[FANOUT], 1);
    private volatile long size;

    /** The value at {@code index}, or 0. */
    int get(long index) {
        Root r = root;
        if (index < 0 || (r.levels * BITS < 63 && index >>> (r.levels * BITS) != 0)) return 0;
        Object node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > 0; shift -= BITS) {
            node = NODE.getAcquire((Object[]) node, (int) (index >>> shift) & MASK);
            if (node == null) return 0;
        }
        return (int) LEAF.getAcquire((int[]) node, (int) index & MASK);
    }

    /** Puts {@code value} (not 0) at {@code index} (0 or more), replacing what was there. */
    void put(long index, int value) {
        if (index < 0) throw new IndexOutOfBoundsException("negative page index " + index);
        if (value == 0) throw new IllegalArgumentException("0 is an empty slot");
        Root r = root;
        while (r.levels * BITS < 63 && index >>> (r.levels * BITS) != 0) {
            Object[] top = new Object[FANOUT];
            top[0] = r.node;
            r = new Root(top, r.levels + 1);
            root = r;
        }
        int[] leaf = leaf(r, index, true);
        int i = (int) index & MASK;
        if (leaf[i] == 0) size = size + 1;
        LEAF.setRelease(leaf, i, value);
    }

    /** The leaf that holds {@code index}, made if {@code make}, or null. */
    private static int[] leaf(Root r, long index, boolean make) {
        Object node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > 0; shift -= BITS) {
            Object[] parent = (Object[]) node;
            int i = (int) (index >>> shift) & MASK;
            node = parent[i];
            if (node == null) {
                if (!make) return null;
                node = shift == BITS ? new int[FANOUT] : new Object[FANOUT];
                NODE.setRelease(parent, i, node);
            }
        }
        return (int[]) node;
    }

    /** Empties the slot at {@code index} and returns what it held, 0 when nothing. */
    int remove(long index) {
        int value = get(index);
        if (value == 0) return 0;
        LEAF.setRelease(leaf(root, index, false), (int) index & MASK, 0);
        size = size - 1;
        return value;
    }

    /** How many slots hold a value. */
    long size() {
        return size;
    }

    /** Calls {@code action} with the index of every slot that holds a value, in increasing order. */
    void forEachIndex(LongConsumer action) {
        Root r = root;
        walk(r.node, r.levels, 0, action);
    }

    private static void walk(Object node, int levels, long base, LongConsumer action) {
        for (int i = 0; i < FANOUT; i++) {
            long index = (base << BITS) | i;
            if (levels == 1) {
                if ((int) LEAF.getAcquire((int[]) node, i) != 0) action.accept(index);
            } else {
                Object child = NODE.getAcquire((Object[]) node, i);
                if (child != null) walk(child, levels - 1, index, action);
            }
        }
    }

    /**
     * The first index from {@code from} on, and before {@code end}, whose slot holds a value
     * ({@code full}) or is empty (not {@code full}); {@code end} when there is none. A missing node
     * is skipped whole, so a large empty range costs one look per level, not one per index.
     */
    long seek(long from, long end, boolean full) {
        if (from < 0) throw new IndexOutOfBoundsException("negative page index " + from);
        if (from >= end) return end;
        Root r = root;
        long covered = r.levels * BITS < 63 ? 1L << (r.levels * BITS) : Long.MAX_VALUE; // indices the tree can hold
        if (from >= covered) return full ? end : from;
        long found = seek(r.node, r.levels, 0, from, Math.min(end, covered), full);
        if (found >= 0) return found;
        return !full && covered < end ? covered : end;
    }

    /** As {@link #seek(long, long, boolean)} within {@code node}, whose first index is {@code base}; -1 when not found before {@code end}. */
    private static long seek(Object node, int levels, long base, long from, long end, boolean full) {
        int shift = (levels - 1) * BITS;
        for (int i = (int) ((from - base) >>> shift); i < FANOUT; i++) {
            long first = base + ((long) i << shift);
            if (first >= end) return -1;
            long start = Math.max(from, first);
            if (levels == 1) {
                if (((int) LEAF.getAcquire((int[]) node, i) != 0) == full) return start;
            } else {
                Object child = NODE.getAcquire((Object[]) node, i);
                if (child == null) {
                    if (!full) return start;
                } else {
                    long found = seek(child, levels - 1, first, start, end, full);
                    if (found >= 0) return found;
                }
            }
        }
        return -1;
    }

    /** Empties every slot and drops every node. */
    void clear() {
        root = new Root(new int[FANOUT], 1);
        size = 0;
    }
}
