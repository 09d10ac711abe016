package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BioRing;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.memory.HugeMemory;
import org.dmstack.units.Units;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * The bio path with bios in flight: one thread keeps {@code depth} 4 KiB bios at random pages in
 * flight through a {@link BioRing}, as an io_uring program does: it reaps a completed bio, resets
 * it for the next request and queues it, and submits what it queued when nothing is left to reap.
 * One benchmark operation is one bio. brd directly, dm-linear over brd, dm-stripe over two brd
 * disks (64 KiB chunks); the device is {@code dmstack.bench.bioDeviceMiB} MiB, every page written.
 * RAW is the limit: the same copies between a 4 KiB buffer and random pages of native memory of
 * that size, allocated as brd allocates its pages ({@link HugeMemory}), without a bio (its depth
 * means nothing).
 *
 * <p>Besides JMH's throughput, the benchmark counts the thread's CPU time and its bios
 * ({@link Cpu}): on a machine shared with other work, the IOPS one core gives are 10^9 over the
 * CPU nanoseconds per bio, whatever share of the core the thread got.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BioRingBench {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** RAW: no device, no ring, a copy between the bio's buffer and a random page of native memory (the limit). */
    @Param({"RAW", "DIRECT", "LINEAR", "STRIPE2"})
    public String stack;

    @Param({"32", "128"})
    public int depth;

    private Stacks.BioStack bio;
    private BlockDevice device;
    private long pages;
    private BioRing ring;
    private SplittableRandom random;

    /**
     * The thread's CPU time and the bios it did, read every 1024 bios (reading the CPU clock is a
     * system call): RunAll divides one by the other.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Cpu {
        public long cpuNanos;
        public long bios;
        private long ops;
        private long start;

        @Setup(Level.Iteration)
        public void begin() {
            cpuNanos = 0;
            bios = 0;
            ops = 0;
            start = THREADS.getCurrentThreadCpuTime();
        }

        void count() {
            if ((++ops & 1023) == 0) {
                cpuNanos = THREADS.getCurrentThreadCpuTime() - start;
                bios = ops;
            }
        }
    }

    private MemorySegment raw;
    private MemorySegment rawBuffer;

    @Setup(Level.Trial)
    public void setUp() {
        random = new SplittableRandom(42);
        long bytes = Long.getLong("dmstack.bench.bioDeviceMiB", 256) << 20;
        if (stack.equals("RAW")) {
            // Memory as brd's is allocated (huge pages where the kernel gives them): the limit is
            // the copy at random pages of such memory, not of memory that costs a TLB walk more.
            raw = HugeMemory.allocate(java.lang.foreign.Arena.ofShared(), bytes).fill((byte) 0x5a);
            rawBuffer = MemorySegment.ofArray(new byte[4096]);
            pages = bytes >> Units.PAGE_SHIFT;
            return;
        }
        bio = new Stacks.BioStack(Stacks.Layer.valueOf(stack), Long.getLong("dmstack.bench.bioDeviceMiB", 256) << 20);
        device = bio.device;
        pages = device.capacity() / Units.PAGE_SECTORS;
        ring = new BioRing(depth);
        for (int i = 0; i < depth; i++) ring.queue(device, Bio.read(randomSector(), MemorySegment.ofArray(new byte[4096])));
        ring.submit();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        if (ring == null) return;
        ring.submit();
        while (ring.take() != null) {
            // drain: every bio ends before the stack goes
        }
        bio.close();
    }

    private long randomSector() {
        return random.nextLong(pages) * Units.PAGE_SECTORS;
    }

    /** Reaps one bio (submitting what is queued when none has ended), checks it, queues it again as {@code op}. */
    private Bio next(BioOp op, Cpu cpu) throws InterruptedException {
        if (raw != null) {
            long at = random.nextLong(pages) << Units.PAGE_SHIFT;
            if (op == BioOp.READ) MemorySegment.copy(raw, at, rawBuffer, 0, Units.PAGE_SIZE);
            else MemorySegment.copy(rawBuffer, 0, raw, at, Units.PAGE_SIZE);
            cpu.count();
            return null;
        }
        Bio done = ring.poll();
        if (done == null) {
            ring.submit();
            done = ring.take();
        }
        BlkStatus status = done.await();
        if (!status.isOk()) throw new IllegalStateException(done + ": " + status);
        ring.queue(device, done.reset(op, randomSector(), done.data()));
        cpu.count();
        return done;
    }

    @Benchmark
    public Bio randRead4k(Cpu cpu) throws InterruptedException {
        return next(BioOp.READ, cpu);
    }

    @Benchmark
    public Bio randWrite4k(Cpu cpu) throws InterruptedException {
        return next(BioOp.WRITE, cpu);
    }
}
