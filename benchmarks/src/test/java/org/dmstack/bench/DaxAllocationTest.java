package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The DAX path allocates nothing per call in steady state: fs-dax reads and writes on pmem, dm-linear
 * and dm-stripe, counted in bytes by the JVM for this thread. Counted before the JIT has compiled
 * anything, so no allocation is hidden by escape analysis: the path has none to hide. (Writes with
 * the DAX write cache on force a slice of the mapping and are left to the JMH gc profiler.)
 */
class DaxAllocationTest {
    private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

    @ParameterizedTest
    @CsvSource({"DIRECT, 4096", "LINEAR, 4096", "STRIPE2, 4096", "STRIPE4, 4096", "LINEAR, 65536", "STRIPE2, 65536", "STRIPE4, 1048576"})
    void fsDaxReadsAndWritesAllocateNothingPerCall(Stacks.Layer layer, int size) {
        long region = 4L << 20;
        for (boolean writeCache : new boolean[] {false, true}) {
            try (Stacks.Dax dax = new Stacks.Dax(layer, region, writeCache)) {
                byte[] bytes = new byte[size];
                MemorySegment buffer = MemorySegment.ofArray(bytes);
                IovIter iter = IovIter.iovec(bytes);
                int ops = 512;
                run(dax, buffer, iter, ops, region, writeCache); // the first call makes the thread's mapping
                long before = THREADS.getCurrentThreadAllocatedBytes();
                long moved = run(dax, buffer, iter, ops, region, writeCache);
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                assertEquals((writeCache ? 1L : 2L) * ops * size, moved);
                // One-off objects (the JIT's, a class initialised) are a few hundred bytes; the smallest
                // object per call would be 16 bytes per call.
                long calls = (writeCache ? 1L : 2L) * ops;
                assertTrue(allocated < 4 * calls, layer + " " + size + " write cache " + writeCache + ": " + allocated + " bytes for " + calls + " calls");
            }
        }
    }

    /** {@code ops} reads, and as many writes when the write cache is off; returns the bytes moved. */
    private static long run(Stacks.Dax dax, MemorySegment buffer, IovIter iter, int ops, long region, boolean writeCache) {
        long moved = 0, pos = 0;
        for (int i = 0; i < ops; i++) {
            moved += DaxBench.read(dax, pos, buffer, iter);
            if (!writeCache) moved += DaxBench.write(dax, pos, buffer, iter, false);
            pos = (pos + buffer.byteSize()) % region;
        }
        return moved;
    }
}
