package org.dmstack.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.memory.Memory;
import org.dmstack.pmem.Pmem;
import org.dmstack.pmem.PmemConfig;
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
 * What a FLUSH costs on file-backed pmem as the device grows: a 4 KiB write at a random page, then
 * a FLUSH ({@code writeThenFlush}, which forces only what was written since the last flush), against
 * the same write followed by a force of the whole mapping ({@code writeThenForceAll}, what a FLUSH
 * did before the driver tracked what it wrote). The backing file is sparse, on a disk file system
 * ({@code dmstack.bench.flushDir}, default java.io.tmpdir) — on tmpfs a force has nothing to write.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class FlushBench {
    @Param({"64", "256", "1024", "4096"})
    public int sizeMiB;

    private Pmem pmem;
    private Path file;
    private BlockDevice device;
    private MemorySegment mapping;
    private final MemorySegment buffer = MemorySegment.ofArray(new byte[Units.PAGE_SIZE]);
    private final SplittableRandom random = new SplittableRandom(42);
    private long pages;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        long size = (long) sizeMiB << 20;
        Path dir = Path.of(System.getProperty("dmstack.bench.flushDir", System.getProperty("java.io.tmpdir")));
        file = Files.createTempFile(dir, "dmstack-bench-flush-", ".img");
        pmem = new Pmem(new BlockDeviceRegistry());
        device = pmem.create(PmemConfig.file(file, size, true)).device();
        pages = size >> Units.PAGE_SHIFT;
        mapping = device.dax().directAccess(0, pages).kaddr();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pmem.close();
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void writeRandomPage() {
        Stacks.check(Stacks.submit(device, Bio.write(random.nextLong(pages) * Units.PAGE_SECTORS, buffer)));
    }

    @Benchmark
    public void writeThenFlush() {
        writeRandomPage();
        Stacks.check(Stacks.submit(device, Bio.flush()));
    }

    @Benchmark
    public void writeThenForceAll() {
        writeRandomPage();
        Memory.writeback(mapping, 0, mapping.byteSize());
    }
}
