package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.dmstack.units.Units;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The DAX path: read(2)/write(2) of {@code size} bytes through the fs-dax helpers
 * ({@link FsDax#read}/{@link FsDax#write}: direct_access plus the device's copies, into and out of
 * a caller buffer), on pmem directly, dm-linear over pmem and dm-stripe (2 and 4 stripes, 64 KiB
 * chunks) over pmem, against the limit: {@link MemorySegment#copy} between the same caller buffer
 * and the same pmem memory, in one copy ({@code RAW}), a page at a time ({@code RAW_PAGES}), or
 * through the iterator as the fast path copies at the bottom of the stack ({@code RAW_ITER});
 * which is fastest depends on the size, the machine and the JIT, so the limit is the fastest.
 * With the DAX write cache on, writes are flushcache copies (forced when they return); the raw
 * baselines then force their range once per write.
 *
 * <p>Every operation moves to the next {@code size} bytes of a region of
 * {@code dmstack.bench.daxRegionMiB} MiB (default 64), so the copies are not served from one hot
 * cache line set. One operation is one call; the report turns ops/s into bytes per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DaxBench {
    @Param({"RAW", "RAW_PAGES", "RAW_ITER", "DIRECT", "LINEAR", "STRIPE2", "STRIPE4"})
    public String stack;

    @Param({"4096", "65536", "1048576"})
    public int size;

    /** The DAX write cache of the pmem devices (and so of the mapped device above them). */
    @Param({"false", "true"})
    public boolean writeCache;

    private Stacks.Dax dax;
    private MemorySegment buffer;
    private IovIter iter;
    private long region;
    private long pos;

    @Setup(Level.Trial)
    public void setUp() {
        region = Long.getLong("dmstack.bench.daxRegionMiB", 64) << 20;
        dax = new Stacks.Dax(Stacks.Layer.valueOf(stack), region, writeCache);
        byte[] bytes = new byte[size];
        Arrays.fill(bytes, (byte) 0xa5);
        buffer = MemorySegment.ofArray(bytes);
        iter = IovIter.iovec(bytes);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dax.close();
    }

    private long next() {
        long p = pos;
        pos = p + size >= region ? 0 : p + size;
        return p;
    }

    @Benchmark
    public long read() {
        return read(dax, next(), buffer, iter);
    }

    @Benchmark
    public long write() {
        return write(dax, next(), buffer, iter, writeCache);
    }

    /**
     * One read of all of {@code buffer} at {@code pos}: the benchmark's operation, also used by
     * {@link ForceCensus} and {@link PairedRatios}. {@code iter} is an IOVEC over {@code buffer},
     * reused (rewound after each call, as a program reuses its iovec): read(2)'s iterator lives on
     * the kernel stack, and here it must not be what is measured.
     */
    static long read(Stacks.Dax dax, long pos, MemorySegment buffer, IovIter iter) {
        long size = buffer.byteSize();
        long n;
        if (dax.layer == Stacks.Layer.RAW_ITER) {
            n = iter.copyToIterMcsafe(dax.memory, pos, size);
        } else if (dax.dax == null) {
            long piece = piece(dax, size);
            for (long at = 0; at < size; at += piece) MemorySegment.copy(dax.memory, pos + at, buffer, at, piece);
            return size;
        } else {
            n = FsDax.read(dax.dax, pos, iter);
        }
        iter.revert(n);
        return n;
    }

    /** One write; the raw baseline forces its range when the write cache is on, as a flushcache copy does. */
    static long write(Stacks.Dax dax, long pos, MemorySegment buffer, IovIter iter, boolean writeCache) {
        long size = buffer.byteSize();
        long n;
        if (dax.layer == Stacks.Layer.RAW_ITER) {
            n = writeCache ? iter.copyFromIterFlushcache(dax.memory, pos, size) : iter.copyFromIter(dax.memory, pos, size);
        } else if (dax.dax == null) {
            long piece = piece(dax, size);
            for (long at = 0; at < size; at += piece) MemorySegment.copy(buffer, at, dax.memory, pos + at, piece);
            if (writeCache) Memory.writeback(dax.memory, pos, size);
            return size;
        } else {
            n = FsDax.write(dax.dax, pos, iter);
        }
        iter.revert(n);
        return n;
    }

    /** How much a raw baseline copies at once: all of it, or a page (sizes are whole pages). */
    private static long piece(Stacks.Dax dax, long bytes) {
        return dax.layer == Stacks.Layer.RAW_PAGES ? Math.min(bytes, Units.PAGE_SIZE) : bytes;
    }
}
