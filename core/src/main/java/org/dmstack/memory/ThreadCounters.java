package org.dmstack.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Counters written without atomic instructions, as Linux's per-CPU counters are: each thread adds
 * to a cell of its own (found through a ThreadLocal) with opaque stores, a reader sums the cells.
 * An atomic add per I/O costs as much as the rest of a 4 KiB request's overhead. The cells of
 * threads that have ended are folded into a base when a new thread arrives, so short-lived
 * threads leave nothing behind. A sum is each slot on its own, not a snapshot of all at one instant.
 */
public final class ThreadCounters {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private record Cell(Thread owner, long[] slots) {}

    private final int slots;
    private final ThreadLocal<long[]> local = ThreadLocal.withInitial(this::newCell);
    private volatile Cell[] cells = new Cell[0];
    /** What the cells of ended threads had counted. */
    private final long[] base;

    public ThreadCounters(int slots) {
        this.slots = slots;
        this.base = new long[slots];
    }

    /** This thread's cell, for {@link #add}: only this thread may write it. */
    public long[] cell() {
        return local.get();
    }

    /** Adds to a slot of the calling thread's own {@code cell}. */
    public static void add(long[] cell, int slot, long value) {
        SLOT.setOpaque(cell, slot, cell[slot] + value);
    }

    /** Every slot summed over the base and the cells. */
    public synchronized long[] sum() {
        long[] total = base.clone();
        for (Cell c : cells) {
            for (int i = 0; i < slots; i++) total[i] += (long) SLOT.getOpaque(c.slots(), i);
        }
        return total;
    }

    /** One slot summed over the base and the cells. */
    public synchronized long sum(int slot) {
        long total = base[slot];
        for (Cell c : cells) total += (long) SLOT.getOpaque(c.slots(), slot);
        return total;
    }

    /** How many threads' cells are kept (ended threads' are folded away when a new one arrives). */
    public int cellCount() {
        return cells.length;
    }

    private synchronized long[] newCell() {
        List<Cell> live = new ArrayList<>();
        for (Cell c : cells) {
            if (c.owner().isAlive()) {
                live.add(c);
            } else {
                // The thread is gone: nothing writes its cell any more.
                for (int i = 0; i < slots; i++) base[i] += (long) SLOT.getOpaque(c.slots(), i);
            }
        }
        long[] cell = new long[slots];
        live.add(new Cell(Thread.currentThread(), cell));
        cells = live.toArray(new Cell[0]);
        return cell;
    }
}
