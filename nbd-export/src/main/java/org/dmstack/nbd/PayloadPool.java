package org.dmstack.nbd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A connection's payload buffers, reused from request to request: native memory in power-of-two
 * sizes from 4 KiB to {@link Nbd#MAX_PAYLOAD}. Allocating native memory for every request (a
 * malloc, a zero fill, page faults for the large ones and a cleaner left for the GC) cost more
 * than the request itself. How many buffers a connection can hold at once is bounded by its
 * in-flight limits, and so is what the pool keeps; the GC frees them with the connection.
 */
final class PayloadPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = Integer.numberOfTrailingZeros(Nbd.MAX_PAYLOAD);

    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedQueue<MemorySegment>[] free = new ConcurrentLinkedQueue[MAX_SHIFT - MIN_SHIFT + 1];

    PayloadPool() {
        for (int i = 0; i < free.length; i++) free[i] = new ConcurrentLinkedQueue<>();
    }

    /**
     * A buffer of at least {@code n} bytes (1 to MAX_PAYLOAD; its size is the next power of two,
     * 4 KiB at least), contents undefined. Use a slice of it; give the buffer itself back with
     * {@link #give}.
     */
    MemorySegment take(long n) {
        int c = sizeClass(n);
        MemorySegment buffer = free[c].poll();
        return buffer != null ? buffer : Arena.ofAuto().allocate(1L << (c + MIN_SHIFT), 4096);
    }

    /** Takes back a buffer {@link #take} gave out, once nothing uses it any more; null is ignored. */
    void give(MemorySegment buffer) {
        if (buffer != null) free[sizeClass(buffer.byteSize())].offer(buffer);
    }

    private static int sizeClass(long n) {
        if (n < 1 || n > Nbd.MAX_PAYLOAD) throw new IllegalArgumentException("payload of " + n + " bytes");
        int shift = 64 - Long.numberOfLeadingZeros(n - 1);
        return Math.max(shift, MIN_SHIFT) - MIN_SHIFT;
    }
}
