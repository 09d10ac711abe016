package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * chunks) over pmem, against the limit: the same bytes between the same caller buffer and pmem
 * memory, moved by the very routines the devices' copies end in ({@link RawCopy}), in one call
 * ({@code RAW}), a page at a time ({@code RAW_PAGES}), or through the iterator as the fast path
 * copies at the bottom of the stack ({@code RAW_ITER}). Here each raw copy has a pmem device of its
 * own, so these figures are absolute; the ratios the goals are judged by ({@link PairedRatios}) put
 * the raw copy on the stack's own memory. With the DAX write cache on, writes are flushcache copies
 * (forced when they return); the raw baselines then force what they wrote.
 *
 * <p>The JVM runs with {@link #COPIES_APART}: those copy routines are compiled once, on their own,
 * and every side calls that one compiled copy. Inlined, the JIT compiles the same copy differently
 * in each caller (by 10-25%, either way), so a raw copy inlined into the benchmark's loop was not a
 * limit: the stack's copy, compiled at the bottom of its call chain, beat it.
 *
 * <p>Every operation moves to the next {@code size} bytes of a region of
 * {@code dmstack.bench.daxRegionMiB} MiB (default 64), so the copies are not served from one hot
 * cache line set. One operation is one call; the report turns ops/s into bytes per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(jvmArgsAppend = {DaxBench.QUIET, DaxBench.COPIES_APART})
public class DaxBench {
    /**
     * The JVM option that compiles the DAX copy routines apart (never inlined), so that the stack
     * and the raw copy run the same machine code for the bytes: the DAX JMH forks and the JVM of
     * {@link PairedRatios} run with it (run-all.sh passes it).
     */
    static final String COPIES_APART = "-XX:CompileCommand=dontinline,org.dmstack.memory.Memory::copy*";

    /** Keeps the JVM from printing the compile command at start-up. */
    static final String QUIET = "-XX:CompileCommand=quiet";

    /** Whether this JVM runs with {@link #COPIES_APART}: without it, a raw copy is not a limit. */
    static boolean copiesApart() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().contains(COPIES_APART);
    }

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
        if (dax.layer.raw()) return dax.raw((int) buffer.byteSize()).read(pos, buffer, iter);
        long n = FsDax.read(dax.dax, pos, iter);
        iter.revert(n);
        return n;
    }

    /** One write; the raw baselines write back their range when the write cache is on, as a flushcache copy does. */
    static long write(Stacks.Dax dax, long pos, MemorySegment buffer, IovIter iter, boolean writeCache) {
        if (dax.layer.raw()) return dax.raw((int) buffer.byteSize()).write(pos, buffer, iter, writeCache);
        long n = FsDax.write(dax.dax, pos, iter);
        iter.revert(n);
        return n;
    }
}
