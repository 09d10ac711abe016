package org.dmstack.dax;

import org.dmstack.memory.ThreadCounters;

/**
 * How many DAX calls of each kind reached a device, on {@link ThreadCounters}: an atomic add per
 * call cost as much as the rest of a 4 KiB DAX read's overhead.
 */
final class CallCounts {
    static final int DIRECT_ACCESS = 0, COPY = 1, FLUSH = 2;
    private final ThreadCounters counters = new ThreadCounters(3);

    /** One more call of {@code kind}, on this thread's cell. */
    void add(int kind) {
        ThreadCounters.add(counters.cell(), kind, 1);
    }

    long sum(int kind) {
        return counters.sum(kind);
    }
}
