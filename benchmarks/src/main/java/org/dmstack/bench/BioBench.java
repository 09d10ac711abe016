package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
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
 * The bio path: 4 KiB random reads and writes and 1 MiB sequential reads and writes, each a bio
 * submitted and awaited (queue depth 1 per thread; each thread reuses its bio), on a brd RAM disk directly, dm-linear over
 * brd, and dm-stripe over two brd disks (64 KiB chunks). The runner runs it with 1 and 2 threads;
 * with 2, each thread has its own buffer, random stream and sequential cursor.
 *
 * <p>As on Linux 6.1, brd accounts nothing and dm accounts every bio on dm-N: a bio through dm-linear
 * is counted once, on the mapped device.
 *
 * <p>The device is {@code dmstack.bench.bioDeviceMiB} MiB (default 256), every page written before
 * measuring, so reads copy real pages. Caller buffers are heap arrays, as a Java program has them.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BioBench {
    @Param({"DIRECT", "LINEAR", "STRIPE2"})
    public String stack;

    private Stacks.BioStack bio;
    BlockDevice device;
    long sectors;
    private final AtomicInteger threadIds = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() {
        bio = new Stacks.BioStack(Stacks.Layer.valueOf(stack), Long.getLong("dmstack.bench.bioDeviceMiB", 256) << 20);
        device = bio.device;
        sectors = device.capacity();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        bio.close();
    }

    /** One thread's buffers, random stream and sequential cursor. */
    @State(Scope.Thread)
    public static class Worker {
        MemorySegment small;
        MemorySegment large;
        /** One bio per size, reset for every request (Bio.reset), as a program that reuses them. */
        Bio smallBio;
        Bio largeBio;
        SplittableRandom random;
        long cursor;
        long pages;
        @Setup(Level.Trial)
        public void setUp(BioBench b) {
            int id = b.threadIds.getAndIncrement();
            small = MemorySegment.ofArray(new byte[4096]);
            large = MemorySegment.ofArray(new byte[1 << 20]);
            smallBio = ended(Bio.read(0, small));
            largeBio = ended(Bio.read(0, large));
            random = new SplittableRandom(42 + id);
            pages = b.sectors / Units.PAGE_SECTORS;
            // Sequential streams start half a device apart, so two threads do not read the same MiB.
            cursor = (b.sectors / 2 * id) & ~2047L;
        }

        /** A bio that has ended, ready for reset: it was never submitted. */
        private static Bio ended(Bio bio) {
            bio.endio(BlkStatus.OK);
            return bio;
        }

        long randomSector() {
            return random.nextLong(pages) * Units.PAGE_SECTORS;
        }

        long nextSequential(long deviceSectors) {
            long s = cursor;
            cursor = s + 2048 >= deviceSectors ? 0 : s + 2048;
            return s;
        }
    }

    private BlkStatus run(Bio b) {
        device.submit(b);
        BlkStatus status = b.await();
        if (!status.isOk()) throw new IllegalStateException(b + ": " + status);
        return status;
    }

    @Benchmark
    public BlkStatus randRead4k(Worker w) {
        return run(w.smallBio.reset(BioOp.READ, w.randomSector(), w.small));
    }

    @Benchmark
    public BlkStatus randWrite4k(Worker w) {
        return run(w.smallBio.reset(BioOp.WRITE, w.randomSector(), w.small));
    }

    @Benchmark
    public BlkStatus seqRead1m(Worker w) {
        return run(w.largeBio.reset(BioOp.READ, w.nextSequential(sectors), w.large));
    }

    @Benchmark
    public BlkStatus seqWrite1m(Worker w) {
        return run(w.largeBio.reset(BioOp.WRITE, w.nextSequential(sectors), w.large));
    }
}
