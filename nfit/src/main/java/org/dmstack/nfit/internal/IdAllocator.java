package org.dmstack.nfit.internal;

import java.util.BitSet;

/**
 * Hands out blocks of consecutive numbers (region and NVDIMM ids), so that several platforms in
 * one framework name their devices region0..., region2... without clashing, as several NVDIMM
 * buses do in Linux.
 */
final class IdAllocator {
    private final BitSet used = new BitSet();

    /** The first of {@code count} consecutive free ids, now taken. */
    synchronized int allocate(int count) {
        int start = 0;
        while (true) {
            int clash = used.nextSetBit(start);
            if (clash < 0 || clash >= start + count) break;
            start = used.nextClearBit(clash);
        }
        used.set(start, start + count);
        return start;
    }

    synchronized void release(int first, int count) {
        used.clear(first, first + count);
    }
}
