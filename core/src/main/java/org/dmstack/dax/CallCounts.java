package org.dmstack.dax;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * How many DAX calls of each kind reached a device, counted without atomic instructions, as
 * Linux's per-CPU counters are: each thread adds to a cell of its own (found through a
 * ThreadLocal), a reader sums the cells. An atomic add per call cost as much as the rest of a
 * 4 KiB DAX read's overhead. The cells of threads that have ended are folded into a base when a
 * new thread arrives, so short-lived threads leave nothing behind (as the block layer's DiskStats).
 */
final class CallCounts {
    static final int DIRECT_ACCESS = 0, COPY = 1, FLUSH = 2;
    private static final int KINDS = 3;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private record Cell(Thread owner, long[] counts) {}

    private final ThreadLocal<long[]> local = ThreadLocal.withInitial(this::newCell);
    private volatile Cell[] cells = new Cell[0];
    private final long[] base = new long[KINDS];

    /** One more call of {@code kind}, on this thread's cell (only this thread writes it). */
    void add(int kind) {
        long[] cell = local.get();
        SLOT.setOpaque(cell, kind, cell[kind] + 1);
    }

    synchronized long sum(int kind) {
        long sum = base[kind];
        for (Cell c : cells) sum += (long) SLOT.getOpaque(c.counts(), kind);
        return sum;
    }

    private synchronized long[] newCell() {
        List<Cell> live = new ArrayList<>();
        for (Cell c : cells) {
            if (c.owner().isAlive()) {
                live.add(c);
            } else {
                for (int i = 0; i < KINDS; i++) base[i] += (long) SLOT.getOpaque(c.counts(), i);
            }
        }
        long[] counts = new long[KINDS];
        live.add(new Cell(Thread.currentThread(), counts));
        cells = live.toArray(new Cell[0]);
        return counts;
    }
}
