package org.dmstack.pmem;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/**
 * A measuring tool, not a test: what the JIT spends on each new revision of the pmem driver, as a
 * bundle update makes one. Each round loads the driver's classes anew from a folder (its own class
 * loader, as Felix gives a new revision), makes pmem0 over a 4 MiB file, runs 4 KiB reads and
 * writes on it for a while on one thread, and prints the CPU the JIT compiler threads used
 * meanwhile (Linux: /proc/self/task/N/schedstat). Core stays loaded and compiled throughout, as
 * it does across a pmem update. The first two rounds also compile core's path and are left out
 * of the summary.
 *
 * <pre>{@code
 * scripts/mvn -B -q -o test-compile -pl pmem-driver -am
 * J=$(scripts/jdk25); SLF=$(ls ~/.m2/repository/org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar)
 * $J/bin/java --enable-native-access=ALL-UNNAMED -cp core/target/classes:pmem-driver/target/test-classes:$SLF \
 *     org.dmstack.pmem.JitPerRevision 1500 7 pmem-driver/target/classes
 * }</pre>
 *
 * Arguments: milliseconds of I/O per round, rounds, the folder of the driver's classes (which
 * must not be on the class path).
 */
public final class JitPerRevision {
    private JitPerRevision() {}

    public static void main(String[] args) throws Exception {
        long millis = Long.parseLong(args[0]);
        int rounds = Integer.parseInt(args[1]);
        URL classes = Path.of(args[2]).toUri().toURL();
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        Path file = Files.createTempFile("jit-per-revision", ".img");
        MemorySegment buffer = Arena.ofShared().allocate(4096, 4096);
        SplittableRandom random = new SplittableRandom(1);
        List<Double> cpu = new ArrayList<>();
        try {
            for (int round = 0; round < rounds; round++) {
                // A fresh loader whose parent has core only: the driver's classes are a new revision.
                URLClassLoader revision = new URLClassLoader(new URL[] {classes}, JitPerRevision.class.getClassLoader());
                Class<?> pmemType = revision.loadClass("org.dmstack.pmem.Pmem");
                Class<?> configType = revision.loadClass("org.dmstack.pmem.PmemConfig");
                if (pmemType.getClassLoader() != revision) throw new IllegalStateException("the driver's classes are on the class path: " + args[2]);
                AutoCloseable driver = (AutoCloseable) pmemType.getConstructor(BlockDeviceRegistry.class).newInstance(registry);
                Object config = configType.getMethod("file", Path.class, long.class, boolean.class).invoke(null, file, 4L << 20, true);
                config = configType.getMethod("withName", String.class).invoke(config, "pmem0");
                Object device = pmemType.getMethod("create", configType).invoke(driver, config);
                BlockDevice disk = (BlockDevice) device.getClass().getMethod("device").invoke(device);
                long before = jitCpuNanos();
                long ios = 0;
                long end = System.nanoTime() + millis * 1_000_000L;
                while (System.nanoTime() < end) {
                    long block = random.nextLong(1024);
                    Bio bio = random.nextBoolean() ? Bio.write(block * 8, buffer) : Bio.read(block * 8, buffer);
                    disk.submit(bio);
                    bio.await();
                    ios++;
                }
                double ms = (jitCpuNanos() - before) / 1e6;
                cpu.add(ms);
                System.out.printf("revision %d: %d I/Os, JIT compiler threads %.1f ms CPU%n", round, ios, ms);
                driver.close();
            }
        } finally {
            Files.deleteIfExists(file);
        }
        List<Double> later = new ArrayList<>(cpu.subList(Math.min(2, cpu.size()), cpu.size()));
        Collections.sort(later);
        if (!later.isEmpty()) {
            System.out.printf("JIT CPU per new revision (rounds 2..%d): median %.1f ms, range %.1f-%.1f ms%n", rounds - 1, later.get(later.size() / 2),
                    later.get(0), later.get(later.size() - 1));
        }
    }

    /** The CPU time the JIT compiler threads of this JVM have used. */
    private static long jitCpuNanos() throws Exception {
        long sum = 0;
        try (var tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                try {
                    if (!Files.readString(task.resolve("comm")).contains("Compiler")) continue;
                    sum += Long.parseLong(Files.readString(task.resolve("schedstat")).trim().split(" ")[0]);
                } catch (java.io.IOException gone) {
                    // a thread that ended meanwhile
                }
            }
        }
        return sum;
    }
}
