package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;

/**
 * Drivers and targets updated, stopped and started under a mapped device while threads write and
 * read it: I/O is held and resumes, nothing acknowledged is lost or torn. For each bundle it prints
 * the longest I/O stall of each of several updates and the distribution of I/O latency over them,
 * then the same for a stop and a start 100 ms later. Timings are printed, never asserted.
 *
 * <p>The mapped device "mix" is linear over ram0 (brd), linear over pmem0 (pmem), then ram1 and
 * pmem0 striped, so every swapped bundle is under it.
 */
class HotSwapIT {
    /** linear over ram0, linear over pmem0, then ram1 and pmem0 striped in 4 KiB chunks. */
    private static final String MIX = "0 4096 linear ram0 0\n4096 4096 linear pmem0 0\n8192 4096 striped 2 8 ram1 0 pmem0 4096\n";
    /** Updates of each bundle, for the distribution (-Ddmstack.hotswap.updates=N). */
    private static final int UPDATES = Integer.getInteger("dmstack.hotswap.updates", 5);
    @TempDir Path dir;

    private ItStack stack(long holdMillis) throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("brd.cfg"), "rd_nr = 2\nrd_size = 2048\n");
        Files.writeString(config.resolve("pmem-a.cfg"), "path = " + dir.resolve("pmem0.img") + "\nsize = 4M\ncreate = true\nname = pmem0\n");
        Files.writeString(config.resolve("dm.cfg"), "hold_timeout_ms = " + holdMillis + "\n");
        Files.writeString(config.resolve("mix.table"), MIX);
        ItStack s = ItStack.startWithLinear(config);
        s.awaitOutput("dmsetup table mix", "0 4096 linear 1:0 0\n4096 4096 linear 259:0 0\n8192 4096 striped 2 8 1:1 0 259:0 4096\n");
        ItStack.await("the hold time from dm.cfg", () -> holdTimeout(s) == holdMillis);
        return s;
    }

    private static long holdTimeout(ItStack s) {
        try {
            Object dm = s.service("org.dmstack.dm.DeviceMapper");
            return (Long) dm.getClass().getMethod("holdTimeout").invoke(dm);
        } catch (Exception e) {
            return -1;
        }
    }

    private static Function<String, Object> workload(ItStack s) throws Exception {
        Function<String, Object> io = s.inside().create("Workload", new Class<?>[] {Object.class, String.class, Integer.class},
                s.service("org.dmstack.block.BlockDeviceRegistry"), "dm-0", 4);
        io.apply("start");
        awaitProgress(io, 1000);
        return io;
    }

    /** Waits until {@code n} more I/Os have succeeded. */
    private static void awaitProgress(Function<String, Object> io, long n) throws InterruptedException {
        long start = (Long) io.apply("ops");
        ItStack.await(n + " more I/Os", () -> (Long) io.apply("ops") >= start + n);
    }

    /**
     * Updates a bundle {@code times} times under the workload; returns one line: the longest I/O
     * stall of each update, the CPU time of each update (the thread that updates runs the whole of
     * it: stop, new revision, resolve, start, and the components' deactivation and activation; unlike
     * the stall, this hardly depends on what else the machine runs), and the latency distribution
     * over all of them.
     */
    private static String updates(ItStack s, Bundle b, int times, Function<String, Object> io) throws Exception {
        Path jar = Path.of(URI.create(b.getLocation()));
        io.apply("mark");
        long errors = (Long) io.apply("errors");
        List<Long> stalls = new ArrayList<>();
        List<Long> cpu = new ArrayList<>();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int i = 0; i < times; i++) {
            io.apply("lap");
            long before = threads.getCurrentThreadCpuTime();
            s.update(b, jar);
            cpu.add((threads.getCurrentThreadCpuTime() - before) / 1_000_000);
            awaitProgress(io, 500);
            stalls.add((Long) io.apply("lap"));
        }
        assertEquals(errors, io.apply("errors"), b.getSymbolicName() + " update: " + io.apply("lastError"));
        return String.format("hot swap: %-22s %d updates, longest I/O stall %s ms, CPU time %s ms; I/O latency %s", b.getSymbolicName(),
                times, stalls, cpu, io.apply("latencies"));
    }

    /**
     * Stops a bundle, leaves it stopped for {@code awayMillis}, starts it; returns one line: the
     * longest I/O stall, and how much of it was not the time the bundle was away.
     */
    private static String stopStart(Bundle b, long awayMillis, Function<String, Object> io) throws Exception {
        io.apply("mark");
        long errors = (Long) io.apply("errors");
        b.stop();
        long stopped = System.nanoTime();
        Thread.sleep(awayMillis);
        long away = (System.nanoTime() - stopped) / 1_000_000;
        b.start();
        awaitProgress(io, 500);
        assertEquals(errors, io.apply("errors"), b.getSymbolicName() + " stop+start: " + io.apply("lastError"));
        long stall = (Long) io.apply("stall");
        return String.format("hot swap: %-22s stopped %d ms, started: longest I/O stall %d ms (%d ms beyond the time stopped); I/O latency %s",
                b.getSymbolicName(), away, stall, stall - away, io.apply("latencies"));
    }

    @Test
    void driversAndTargetsSwappedUnderIoLoseNothing() throws Exception {
        try (ItStack s = stack(30_000)) {
            Function<String, Object> io = workload(s);
            List<String> report = new ArrayList<>();
            for (String bsn : List.of("org.dmstack.brd", "org.dmstack.pmem", "org.dmstack.dm.linear", "org.dmstack.dm.stripe")) {
                Bundle b = s.bundle(bsn);
                report.add(updates(s, b, UPDATES, io));
                report.add(stopStart(b, 100, io));
            }
            report.forEach(System.out::println);
            assertEquals("", io.apply("verify"), "last error: " + io.apply("lastError"));
            assertEquals(0L, io.apply("errors"));
            assertEquals(8, report.size());
        }
    }

    /**
     * The framework resolves an updated bundle on the thread that updates it: no resolver pool
     * the update hands its work to and waits for while the devices' I/O is held.
     */
    @Test
    void anUpdateResolvesOnTheUpdatingThread() throws Exception {
        try (ItStack s = stack(30_000)) {
            assertEquals("1", s.dmstack.context().getProperty("felix.resolver.parallelism"));
            Bundle pmem = s.bundle("org.dmstack.pmem");
            s.update(pmem, Path.of(URI.create(pmem.getLocation())));
            s.awaitOutput("dmsetup table mix", "0 4096 linear 1:0 0\n4096 4096 linear 259:0 0\n8192 4096 striped 2 8 1:1 0 259:0 4096\n");
            List<String> resolvers = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .filter(n -> n.startsWith("FelixResolver")).toList();
            assertEquals(List.of(), resolvers);
        }
    }

    @Test
    void aDriverAwayLongerThanTheHoldTimeFailsIoThenWorksAgain() throws Exception {
        try (ItStack s = stack(1000)) {
            Function<String, Object> io = workload(s);
            Bundle brd = s.bundle("org.dmstack.brd");
            io.apply("mark");
            brd.stop();
            ItStack.await("I/O errors once the hold time has run out", () -> (Long) io.apply("errors") > 0);
            String error = (String) io.apply("lastError");
            assertTrue(error.startsWith("IOERR: ") && error.contains("did not come back within 1000 ms"), error);
            System.out.println("hot swap: org.dmstack.brd away for longer than 1000 ms: held I/O failed with " + error
                    + "; longest I/O " + io.apply("stall") + " ms");
            brd.start();
            // Once ram0 is back, a stretch of I/O with no new errors.
            long errors;
            do {
                errors = (Long) io.apply("errors");
                awaitProgress(io, 500);
            } while ((Long) io.apply("errors") != errors);
            assertEquals("", io.apply("verify"), "last error: " + io.apply("lastError"));
        }
    }
}
