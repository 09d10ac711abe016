package org.dmstack.pmem;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the block path has written to a file-backed mapping since the last FLUSH, in chunks of
 * {@value #CHUNK_BYTES} bytes, so that a FLUSH forces only that: it asks the kernel to write back
 * (msync) what was written, not the whole mapping, and a FLUSH with nothing written asks nothing.
 * On ext4 the kernel skips clean pages cheaply, so what a FLUSH costs is mostly the dirty pages
 * themselves either way (FlushBench measures both); the range is what the driver controls.
 *
 * <p>Writers mark a range after their data is in place and before their bio ends; a flush takes
 * the marks it finds and forces them. Flushes run one at a time, so a flush that finds nothing
 * left to take (another took it) still returns only after that other flush has forced it: what
 * ended before a FLUSH began is durable when the FLUSH ends.
 */
final class DirtyRanges {
    static final int CHUNK_SHIFT = 16;
    static final long CHUNK_BYTES = 1L << CHUNK_SHIFT;

    /** Where a run of dirty chunks goes to be forced: bytes from offset. */
    @FunctionalInterface
    interface Writeback {
        void force(long offset, long bytes);
    }

    private final long size;
    private final AtomicLongArray words;

    DirtyRanges(long size) {
        this(size, null);
    }

    /**
     * @param marks the marks an earlier device over the same mapping left ({@link #marks()}), or
     *     null to start with nothing marked
     */
    DirtyRanges(long size, AtomicLongArray marks) {
        this.size = size;
        long chunks = (size + CHUNK_BYTES - 1) >>> CHUNK_SHIFT;
        int length = (int) ((chunks + 63) >>> 6);
        this.words = marks != null && marks.length() == length ? marks : new AtomicLongArray(length);
    }

    /** The marks themselves, for the device that takes this mapping over. */
    AtomicLongArray marks() {
        return words;
    }

    /** Marks {@code bytes} from {@code offset} as written and not yet forced. */
    void mark(long offset, long bytes) {
        if (bytes <= 0) return;
        long first = offset >>> CHUNK_SHIFT;
        long last = (offset + bytes - 1) >>> CHUNK_SHIFT;
        for (long chunk = first; chunk <= last; chunk++) {
            int word = (int) (chunk >>> 6);
            long bit = 1L << (chunk & 63);
            // Most writes land in a chunk already marked: read first, write only when needed.
            if ((words.get(word) & bit) == 0) words.getAndAccumulate(word, bit, (a, b) -> a | b);
        }
    }

    /** Takes every mark and forces each run of marked chunks once; returns the runs forced. */
    synchronized int forceMarked(Writeback writeback) {
        int runs = 0;
        long runStart = -1;
        int n = words.length();
        for (int word = 0; word < n; word++) {
            long bits = words.get(word) == 0 ? 0 : words.getAndSet(word, 0);
            for (int b = 0; b < 64; b++) {
                long chunk = ((long) word << 6) + b;
                boolean marked = (bits & (1L << b)) != 0;
                if (marked && runStart < 0) runStart = chunk;
                if (!marked && runStart >= 0) {
                    force(writeback, runStart, chunk);
                    runs++;
                    runStart = -1;
                }
            }
        }
        if (runStart >= 0) {
            force(writeback, runStart, (long) n << 6);
            runs++;
        }
        return runs;
    }

    private void force(Writeback writeback, long firstChunk, long endChunk) {
        long offset = firstChunk << CHUNK_SHIFT;
        long end = Math.min(size, endChunk << CHUNK_SHIFT);
        writeback.force(offset, end - offset);
    }
}
