package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CI's smoke run: every JMH benchmark once, in this JVM, for a few milliseconds (no timings are
 * checked, only that each ran and produced a score), the force census, the scale probe, and the
 * report and chart written from those results.
 */
class BenchmarkSmokeTest {
    private static Results results;

    @BeforeAll
    static void runEverything() throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        results = RunAll.run(RunAll.Plan.smokeRun(), null);
    }

    @Test
    void everyBenchmarkHasAScore() {
        Map<String, Long> byBenchmark = results.measurements.stream()
                .collect(Collectors.groupingBy(Results.Measurement::benchmark, Collectors.counting()));
        // 7 stacks (3 raw copies, 4 through devices) x 3 sizes x write cache on/off, for reads and for writes.
        assertEquals(42L, byBenchmark.get("DaxBench.read"));
        assertEquals(42L, byBenchmark.get("DaxBench.write"));
        // 3 stacks, with 1 and with 2 threads.
        for (String m : Report.BIO_METHODS) assertEquals(6L, byBenchmark.get("BioBench." + m), m);
        // The raw copy and 3 stacks at queue depths 32 and 128, each with its CPU time per bio.
        for (String m : new String[] {"randRead4k", "randWrite4k"}) {
            assertEquals(8L, byBenchmark.get("BioRingBench." + m), m);
            assertEquals(8L, byBenchmark.get("BioRingBench." + m + ":cpuNsPerBio"), m);
        }
        assertEquals(1L, byBenchmark.get("ScaleBench.tableLoad100k"));
        assertEquals(2L, byBenchmark.get("ScaleBench.lookupRead4k"));
        assertEquals(1L, byBenchmark.get("ScaleBench.brdStartup1TiB"));
        // 64 MiB to 4 GiB.
        assertEquals(4L, byBenchmark.get("FlushBench.writeThenFlush"));
        assertEquals(4L, byBenchmark.get("FlushBench.writeThenForceAll"));
        for (Results.Measurement m : results.measurements) {
            assertTrue(m.score() > 0 && Double.isFinite(m.score()), m + " has no score");
            assertTrue(m.best() > 0 && Double.isFinite(m.best()), m + " has no best iteration");
        }
        assertNotNull(results.find("BioBench.randRead4k", 2, "stack", "LINEAR"));
        // The gc profiler ran with the DAX benchmarks, and only with them.
        assertEquals(84, results.allocations.size());
        assertTrue(results.allocations.keySet().stream().allMatch(k -> k.startsWith("DaxBench.")), results.allocations.keySet().toString());
    }

    /**
     * Paired rounds for every DAX goal (4 stacks x 3 sizes x read/write x write cache), each with
     * the two that choose its limit (page-wise and iterator raw copies against one copy, in the
     * stack's memory), and every bio goal.
     */
    @Test
    void pairedRatiosForEveryGoal() {
        assertEquals(4 * 3 * 3 * 2 * 2 + 2 * 4 * 2 + 2 * 2, results.paired.size());
        for (PairedRatios.Ratio p : results.paired) {
            assertTrue(p.q1() > 0 && p.q1() <= p.median() && p.median() <= p.q3(), p.toString());
            assertEquals(3, p.rounds());
        }
        assertNotNull(results.paired(PairedRatios.key("DAX read", "LINEAR", 4096, false)));
        assertNotNull(results.paired(PairedRatios.key("DAX write", "RAW_ITER/STRIPE2", 65536, true)));
        assertNotNull(results.paired("bio randWrite4k STRIPE2"));
        assertNotNull(results.paired("bio randWrite4k LINEAR 2 threads"));
        assertNotNull(results.paired("ring randRead4k LINEAR"));
    }

    @Test
    void writeCacheOffNeverForcesAndOnForcesEveryWrite() {
        assertEquals(7 * 3 * 2 * 2, results.forces.size());
        results.forces.forEach((key, perOp) -> {
            if (key.contains("/wc-off/") || key.endsWith("/read")) assertEquals(0.0, perOp, key);
            else assertTrue(perOp >= 1, key + ": " + perOp);
        });
        // A 1 MiB write over 64 KiB stripes is 16 chunk copies, each forced.
        assertEquals(16.0, results.forces.get(ForceCensus.key("STRIPE4", 1 << 20, true, "write")));
        assertEquals(1.0, results.forces.get(ForceCensus.key("LINEAR", 1 << 20, true, "write")));
    }

    @Test
    void scaleProbeMeasuredAndCleanedUp() {
        List<String> what = results.scale.stream().map(ScaleProbe.Row::what).toList();
        assertTrue(what.stream().anyMatch(w -> w.startsWith("1 TiB RAM disk: start-up")), what.toString());
        assertTrue(what.stream().anyMatch(w -> w.contains("read at 4 GiB through dm-linear")), what.toString());
        ScaleProbe.Row deleted = results.scale.stream().filter(r -> r.what().contains("file deleted")).findFirst().orElseThrow();
        assertEquals(1.0, deleted.value(), deleted.note());
    }

    @Test
    void reportAndChartAreWrittenFromSavedResults(@TempDir Path out) throws Exception {
        results.save(out.resolve("results.json"));
        Results loaded = Results.load(out.resolve("results.json"));
        assertEquals(results.measurements.size(), loaded.measurements.size());
        assertEquals(results.forces, loaded.forces);
        assertEquals(results.allocations.keySet(), loaded.allocations.keySet()); // values as JSON keeps them (six digits)
        Report.write(loaded, null, out);

        String md = Files.readString(out.resolve("report.md"));
        for (String heading : new String[] {"## Goals", "## DAX path", "## Allocation on the DAX path", "## Write cache on and off", "## Bio path", "## Bio path with bios in flight (BioRing)", "## NBD path", "## Paired ratios", "## FLUSH cost against device size", "## Scale"}) {
            assertTrue(md.contains(heading), "report lacks " + heading);
        }
        assertTrue(md.contains("| DAX copies through dm-linear and dm-stripe, 4 KiB"), md);
        assertTrue(md.contains("Write cache off: forces per DAX operation | at most 0"), md);
        assertTrue(md.contains("| Bio path with bios in flight (BioRing, 1 thread) through dm-linear: 4 KiB IOPS per core | worst "), md);
        assertTrue(md.contains("lookup cost per bio among 100,000 targets"), md);

        byte[] png = Files.readAllBytes(out.resolve("chart.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
        BufferedImage image = ImageIO.read(out.resolve("chart.png").toFile());
        assertTrue(image.getWidth() > 500 && image.getHeight() > 500, image.getWidth() + "x" + image.getHeight());
    }
}
