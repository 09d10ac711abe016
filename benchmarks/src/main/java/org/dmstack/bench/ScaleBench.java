package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.memory.PagePool;
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
 * Scale: loading a table of 100,000 targets, what a bio pays to find its target among 100,000
 * (against a table of one), and starting a 1 TiB sparse RAM disk. Memory figures and the pmem
 * region above 4 GiB are measured by {@link ScaleProbe}, outside JMH.
 */
public class ScaleBench {
    /** Targets of {@link #TARGET_SECTORS} sectors each, all linear over one sparse ram0. */
    static final int TARGETS = 100_000;
    static final long TARGET_SECTORS = 8;

    /** The table text: {@code n} linear lines of 4 KiB each, in order over ram0. */
    static String linearTable(int n, long targetSectors) {
        StringBuilder sb = new StringBuilder(n * 32);
        for (int i = 0; i < n; i++) {
            long start = i * targetSectors;
            sb.append(start).append(' ').append(targetSectors).append(" linear ram0 ").append(start).append('\n');
        }
        return sb.toString();
    }

    @State(Scope.Benchmark)
    public static class Tables {
        BlockDeviceRegistry registry;
        Brd brd;
        DeviceMapper dm;
        String text;

        @Setup(Level.Trial)
        public void setUp() {
            registry = new BlockDeviceRegistry();
            brd = new Brd(registry, new BrdConfig(1, TARGETS * TARGET_SECTORS / 2), new PagePool());
            dm = Stacks.deviceMapper(registry);
            text = linearTable(TARGETS, TARGET_SECTORS);
        }

        @TearDown(Level.Invocation)
        public void removeTable() {
            dm.remove("big");
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            dm.close();
            brd.destroy();
        }
    }

    /** dmsetup create with a 100,000-line table: parse, construct every target, stack limits, resume. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public Object tableLoad100k(Tables t) {
        return t.dm.create("big", t.text);
    }

    @State(Scope.Benchmark)
    public static class Lookup {
        @Param({"1", "100000"})
        public int targets;

        BlockDeviceRegistry registry;
        Brd brd;
        DeviceMapper dm;
        BlockDevice device;
        long pages;
        final MemorySegment buffer = MemorySegment.ofArray(new byte[4096]);
        final SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp() {
            registry = new BlockDeviceRegistry();
            long sectors = TARGETS * TARGET_SECTORS;
            brd = new Brd(registry, new BrdConfig(1, sectors / 2), new PagePool());
            dm = Stacks.deviceMapper(registry);
            device = dm.create("big", linearTable(targets, sectors / targets)).disk();
            pages = sectors / 8;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            dm.remove("big");
            dm.close();
            brd.destroy();
        }
    }

    /** A 4 KiB random read through a table of {@code targets} targets (the device holds no pages: reads are zero fills). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public BlkStatus lookupRead4k(Lookup l) {
        Bio b = Bio.read(l.random.nextLong(l.pages) * 8, l.buffer);
        l.device.submit(b);
        return b.await();
    }

    @State(Scope.Benchmark)
    public static class Startup {
        BlockDeviceRegistry registry;
        Brd brd;

        @Setup(Level.Invocation)
        public void setUp() {
            registry = new BlockDeviceRegistry();
        }

        @TearDown(Level.Invocation)
        public void tearDown() {
            if (brd != null) brd.destroy();
            brd = null;
        }
    }

    /** new Brd(rd_nr=1, rd_size=1T): a 1 TiB RAM disk, ready for I/O. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public Object brdStartup1TiB(Startup s) {
        s.brd = new Brd(s.registry, new BrdConfig(1, 1L << 30), new PagePool());
        return s.brd;
    }
}
