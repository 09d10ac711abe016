package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Forks of the paired method: how their ratios combine, and that a real fork reports every pair. */
class PairedForksTest {
    private static PairedRatios.Ratio ratio(String what, String baseline, double median) {
        return new PairedRatios.Ratio(what, "LINEAR", baseline, median, median - 0.05, median + 0.05, 15, true);
    }

    @Test
    void aPairIsTheMedianOfTheForksMediansWithTheirRange() {
        List<PairedRatios.Ratio> combined = PairedForks.combine(List.of(
                List.of(ratio("DAX read 4K LINEAR wc-off", "RAW", 0.70), ratio("DAX write 4K LINEAR wc-off", "RAW", 0.99)),
                List.of(ratio("DAX read 4K LINEAR wc-off", "RAW_ITER", 0.90), ratio("DAX write 4K LINEAR wc-off", "RAW", 1.04)),
                List.of(ratio("DAX read 4K LINEAR wc-off", "RAW", 0.80), ratio("DAX write 4K LINEAR wc-off", "RAW", 1.02))));
        assertEquals(2, combined.size());
        PairedRatios.Ratio read = combined.get(0);
        assertEquals("DAX read 4K LINEAR wc-off", read.what());
        assertEquals(0.80, read.median(), 1e-12);
        assertEquals(0.70, read.q1(), 1e-12);
        assertEquals(0.90, read.q3(), 1e-12);
        assertEquals(3, read.forks());
        assertEquals(15, read.rounds(), "rounds per JVM");
        assertEquals("RAW", read.baseline(), "the limit most forks chose");
        assertEquals("80% (70%-90% over 3 JVMs)", read.format());
        assertFalse(read.aboveLimit());
        PairedRatios.Ratio write = combined.get(1);
        assertEquals(1.02, write.median(), 1e-12);
        assertTrue(write.aboveLimit(), "most JVMs measured above the raw copy");
        assertTrue(write.line().endsWith("measurement error: above the limit"), write.line());
        assertFalse(new PairedRatios.Ratio("x", "LINEAR", "RAW", 1.004, 0.98, 1.02, 9, true, 3).aboveLimit(), "shown as 100%");
        assertTrue(new PairedRatios.Ratio("x", "LINEAR", "RAW", 1.006, 0.98, 1.02, 9, true, 3).aboveLimit(), "shown as 101%");
    }

    @Test
    void aForkLineCarriesTheRatioExactly() {
        PairedRatios.Ratio r = new PairedRatios.Ratio("bio randRead4k LINEAR", "LINEAR", "DIRECT", 0.9123456789, 0.8, 1.1, 7, false);
        assertEquals(r, PairedForks.parse(PairedForks.line(r)));
    }

    @Test
    void aForkRunsThisJvmsOptionsAndPropertiesButNoForksOfItsOwn() {
        System.setProperty("dmstack.bench.forks", "3");
        System.setProperty("dmstack.bench.rounds", "2");
        try {
            List<String> cmd = PairedForks.command(List.of("wc-off", "4096"));
            assertTrue(cmd.contains("-Ddmstack.bench.rounds=2"), cmd.toString());
            assertFalse(cmd.stream().anyMatch(a -> a.startsWith("-Ddmstack.bench.forks")), cmd.toString());
            assertEquals(List.of(PairedRatios.class.getName(), PairedForks.FORK, "wc-off", "4096"), cmd.subList(cmd.size() - 4, cmd.size()));
        } finally {
            System.clearProperty("dmstack.bench.forks");
            System.clearProperty("dmstack.bench.rounds");
        }
    }

    /** Two real JVMs measuring the bio pairs on small disks in a few milliseconds: every pair comes back, from both. */
    @Test
    void realForksReportEveryPair() throws Exception {
        String[] props = {"dmstack.bench.bioDeviceMiB", "8", "dmstack.bench.rounds", "1", "dmstack.bench.roundMillis", "1", "dmstack.bench.warmupMillis", "1"};
        for (int i = 0; i < props.length; i += 2) System.setProperty(props[i], props[i + 1]);
        try {
            List<PairedRatios.Ratio> ratios = PairedForks.run(2, List.of("bio"));
            assertFalse(ratios.isEmpty());
            for (PairedRatios.Ratio r : ratios) {
                assertEquals(2, r.forks(), r.toString());
                assertEquals(1, r.rounds(), r.toString());
                assertTrue(r.q1() > 0 && r.q1() <= r.median() && r.median() <= r.q3(), r.toString());
            }
        } finally {
            for (int i = 0; i < props.length; i += 2) System.clearProperty(props[i]);
        }
    }
}
