package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * read it: I/O is held and resumes, nothing acknowledged is lost or torn. Each swap prints its
 * longest I/O stall and the distribution of I/O latency during it.
 *
 * <p>The mapped device "mix" is linear over ram0 (brd), linear over pmem0 (pmem), then ram1 and
 * pmem0 striped, so every swapped bundle is under it.
 */
class HotSwapIT {
    /** linear over ram0, linear over pmem0, then ram1 and pmem0 striped in 4 KiB chunks. */
    private static final String MIX = "0 4096 linear ram0 0\n4096 4096 linear pmem0 0\n8192 4096 striped 2 8 ram1 0 pmem0 4096\n";
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

    private interface Swap {
        void run() throws Exception;
    }

    private static String swap(String what, Function<String, Object> io, Swap swap) throws Exception {
        io.apply("mark");
        long errors = (Long) io.apply("errors");
        swap.run();
        awaitProgress(io, 500);
        String line = String.format("hot swap: %-28s longest I/O stall %5d ms; I/O latency %s", what, (Long) io.apply("stall"),
                io.apply("latencies"));
        System.out.println(line);
        assertEquals(errors, io.apply("errors"), what + ": " + io.apply("lastError"));
        return line;
    }

    @Test
    void driversAndTargetsSwappedUnderIoLoseNothing() throws Exception {
        try (ItStack s = stack(30_000)) {
            Function<String, Object> io = workload(s);
            List<String> report = new ArrayList<>();
            for (String bsn : List.of("org.dmstack.brd", "org.dmstack.pmem", "org.dmstack.dm.linear", "org.dmstack.dm.stripe")) {
                Bundle b = s.dmstack.bundle(bsn);
                if (b == null) {
                    System.out.println("hot swap: " + bsn + " is not installed (not landed yet): skipped");
                    continue;
                }
                Path jar = Path.of(URI.create(b.getLocation()));
                report.add(swap(bsn + " update", io, () -> s.update(b, jar)));
                report.add(swap(bsn + " stop+start", io, () -> {
                    b.stop();
                    Thread.sleep(100);
                    b.start();
                }));
            }
            assertEquals("", io.apply("verify"), "last error: " + io.apply("lastError"));
            assertEquals(0L, io.apply("errors"));
            assertTrue(report.size() >= 4);
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
