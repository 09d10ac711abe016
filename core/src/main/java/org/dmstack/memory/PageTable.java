package org.dmstack.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongConsumer;

/**
 * Where each page is, by index, as a radix tree (Linux's brd keeps its pages in an xarray): 512
 * slots per node, as many levels as the highest index needs, grown at the top. A leaf holds ints,
 * not objects: the page's place in its store ({@link PageStore} numbers its slots from 1; 0 is an
 * empty slot), so a lookup is a few array loads and never touches an object per page. It takes no
 * lock and allocates nothing. Interior nodes and leaves stay once made, except that a leaf whose
 * values run in order ({@code v, v + 1, ... v + 511}: pages written in order fill a chunk in order)
 * is replaced by a {@link Run}, one small object, as a huge page's entry replaces a page table: a
 * lookup there reads no 2 KiB leaf, whose lines a random lookup over a large table misses in
 * cache (one miss per lookup, some 40 ns at 256 MiB). Emptying a slot of a run splits it back into
 * a leaf.
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

    /** A leaf full of values in order: slot {@code i} holds {@code first + i}. Never the top node. */
    private record Run(int first) {}

    // A leaf is FANOUT values and, after them, how many are not 0 (the writer's, never looked up).
    private static final int COUNT = FANOUT;

    private volatile Root root = new Root(new int[FANOUT + 1], 1);
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
        if (node instanceof int[] leaf) return (int) LEAF.getAcquire(leaf, (int) index & MASK);
        return ((Run) node).first + ((int) index & MASK);
    }

    /** Puts {@code value} (not 0) at {@code index} (0 or more), replacing what was there. */
    void put(long index, int value) {
        if (index < 0) throw new IndexOutOfBoundsException("negative page index " + index);
        if (value == 0) throw new IllegalArgumentException("0 is an empty slot");
        Root r = root;
        while (r.levels * BITS < 63 && index >>> (r.levels * BITS) != 0) {
            Object[] top = new Object[FANOUT];
            Run run = r.levels == 1 ? runOf((int[]) r.node) : null; // the top leaf gets a parent: it may be a run now
            top[0] = run != null ? run : r.node;
            r = new Root(top, r.levels + 1);
            root = r;
        }
        int[] leaf = leaf(r, index, true);
        int i = (int) index & MASK;
        if (leaf[i] == 0) {
            size = size + 1;
            leaf[COUNT]++;
        }
        LEAF.setRelease(leaf, i, value);
        if (leaf[COUNT] == FANOUT && r.levels > 1) collapse(r, index, leaf);
    }

    /** Replaces a full leaf whose values run in order by a {@link Run}; readers holding the leaf read the same values. */
    private static void collapse(Root r, long index, int[] leaf) {
        Run run = runOf(leaf);
        if (run != null) NODE.setRelease(parentOf(r, index), (int) (index >>> BITS) & MASK, run);
    }

    /** The run that {@code leaf} is, or null when it is not full or its values do not run in order. */
    private static Run runOf(int[] leaf) {
        int first = leaf[0];
        if (leaf[COUNT] != FANOUT) return null;
        for (int i = 1; i < FANOUT; i++) if (leaf[i] != first + i) return null;
        return new Run(first);
    }

    /** The interior node whose slot holds the leaf of {@code index} (there must be one: levels above 1). */
    private static Object[] parentOf(Root r, long index) {
        Object node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > BITS; shift -= BITS) node = ((Object[]) node)[(int) (index >>> shift) & MASK];
        return (Object[]) node;
    }

    /** The leaf that holds {@code index}, made if {@code make}, or null; a run there is split back into a leaf. */
    private static int[] leaf(Root r, long index, boolean make) {
        Object node = r.node;
        for (int shift = (r.levels - 1) * BITS; shift > 0; shift -= BITS) {
            Object[] parent = (Object[]) node;
            int i = (int) (index >>> shift) & MASK;
            node = parent[i];
            if (node == null) {
                if (!make) return null;
                node = shift == BITS ? new int[FANOUT + 1] : new Object[FANOUT];
                NODE.setRelease(parent, i, node);
            } else if (node instanceof Run run) {
                // The same values in a leaf of their own first: readers see either, and one is about to change.
                int[] leaf = new int[FANOUT + 1];
                for (int j = 0; j < FANOUT; j++) leaf[j] = run.first + j;
                leaf[COUNT] = FANOUT;
                NODE.setRelease(parent, i, leaf);
                node = leaf;
            }
        }
        return (int[]) node;
    }

    /** Empties the slot at {@code index} and returns what it held, 0 when nothing. */
    int remove(long index) {
        int value = get(index);
        if (value == 0) return 0;
        int[] leaf = leaf(root, index, false);
        LEAF.setRelease(leaf, (int) index & MASK, 0);
        leaf[COUNT]--;
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
        boolean run = node instanceof Run;
        for (int i = 0; i < FANOUT; i++) {
            long index = (base << BITS) | i;
            if (levels == 1) {
                if (run || (int) LEAF.getAcquire((int[]) node, i) != 0) action.accept(index);
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
        // A run's slots are all full: the first from on, or no empty one.
        if (node instanceof Run) return full && from < end ? from : -1;
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
        root = new Root(new int[FANOUT + 1], 1);
        size = 0;
    }
}
