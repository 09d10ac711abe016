package org.dmstack.dax;

import java.util.concurrent.atomic.AtomicInteger;
import org.dmstack.memory.ThreadCounters;

/**
 * How many DAX calls of each kind reached a device, on {@link ThreadCounters}: an atomic add per
 * call cost as much as the rest of a 4 KiB DAX read's overhead.
 */
final class CallCounts {
    static final int DIRECT_ACCESS = 0, COPY = 1, FLUSH = 2;
    private static final AtomicInteger DEVICES = new AtomicInteger();
    private final ThreadCounters counters = new ThreadCounters(3);
    /** Where a thread's mapping remembers this device's cell ({@link DaxMapping#cell}). */
    final int slot = DEVICES.getAndIncrement() & (DaxMapping.CELLS - 1);

    /** One more call of {@code kind}, on this thread's cell. */
    void add(int kind) {
        add(cell(), kind);
    }

    /** This thread's cell: found once, it serves every count of the device in one fs-dax call. */
    long[] cell() {
        return counters.cell();
    }

    /** One more call of {@code kind} on {@code cell}, which must be the calling thread's. */
    static void add(long[] cell, int kind) {
        ThreadCounters.add(cell, kind, 1);
    }

    long sum(int kind) {
        return counters.sum(kind);
    }
}
