package org.dmstack.memory;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.LongAdder;

/**
 * How memory is copied in a DAX stack: a plain copy (a poisoned source is a machine check), a
 * machine-check-safe copy that stops at the first poisoned cache line and says how far it got
 * (memcpy_mcsafe), and the write-back that makes a copy durable (IovIter's
 * copyFromIterFlushcache is memcpy_flushcache: a copy and then {@link #writeback}).
 */
public final class Memory {
    private static final LongAdder FORCES = new LongAdder();
    private static final LongAdder FORCED_BYTES = new LongAdder();

    private Memory() {}

    /** memcpy: copies {@code bytes}; @throws MachineCheckError when the source is poisoned */
    public static void copy(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, long bytes) {
        if (Poison.any()) {
            long bad = Poison.firstPoisoned(src, srcOffset, bytes);
            if (bad >= 0) throw new MachineCheckError(src.address() + srcOffset + bad);
        }
        MemorySegment.copy(src, srcOffset, dst, dstOffset, bytes);
    }

    /**
     * memcpy_mcsafe: copies up to the first poisoned cache line of the source and returns how many
     * bytes were copied (all of them when the source is clean).
     */
    public static long copyMcsafe(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, long bytes) {
        long good = bytes;
        if (Poison.any()) {
            long bad = Poison.firstPoisoned(src, srcOffset, bytes);
            if (bad >= 0) good = bad;
        }
        if (good > 0) MemorySegment.copy(src, srcOffset, dst, dstOffset, good);
        return good;
    }

    /**
     * Writes back the CPU caches for a range (arch_wb_cache_pmem). For memory mapped from a file
     * that means forcing the range to the file; other memory has nothing behind it to write to.
     * Every force is counted, so tests and benchmarks can see what a write cost.
     */
    public static void writeback(MemorySegment segment, long offset, long bytes) {
        if (bytes <= 0 || !segment.isMapped()) return;
        segment.asSlice(offset, bytes).force();
        FORCES.increment();
        FORCED_BYTES.add(bytes);
    }

    /** How many times memory has been forced in this JVM (see {@link #writeback}). */
    public static long forces() {
        return FORCES.sum();
    }

    /** How many bytes those forces covered: what flushing has cost, in the mapping's terms. */
    public static long forcedBytes() {
        return FORCED_BYTES.sum();
    }
}
