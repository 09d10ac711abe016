package org.dmstack.memory;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import org.dmstack.units.Units;

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
        Objects.checkFromIndexSize(offset, bytes, segment.byteSize());
        if (!msync(segment.address() + offset, bytes)) segment.asSlice(offset, bytes).force();
        FORCES.increment();
        FORCED_BYTES.add(bytes);
    }

    // msync(2) straight from the address: what MemorySegment.force() does, without the slice it
    // needs, which is an object per write when the JIT cannot remove it. Where there is no msync,
    // or it refuses (a page size other than 4 KiB), force() does it and reports the error.
    private static final int MS_SYNC = 4;
    private static final MethodHandle MSYNC = Linker.nativeLinker().defaultLookup().find("msync")
            .map(f -> Linker.nativeLinker().downcallHandle(f, FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT)))
            .orElse(null);

    private static boolean msync(long address, long bytes) {
        if (MSYNC == null) return false;
        long start = address & -Units.PAGE_SIZE;
        try {
            return (int) MSYNC.invokeExact(start, address + bytes - start, MS_SYNC) == 0;
        } catch (Throwable e) {
            throw new IllegalStateException("msync", e);
        }
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
