package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonAndFioTest {
    @Test
    void jsonRoundTrips() {
        Object v = Json.parse("{\"a\": [1, 2.5, -3e2, true, null, \"x\\\"y\\n\\u00e9\"], \"b\": {}}");
        assertEquals(List.of(1.0, 2.5, -300.0, true), Json.list(Json.at(v, "a")).subList(0, 4));
        assertEquals("x\"y\né", Json.at(v, "a", 5));
        assertEquals(v, Json.parse(Json.write(v)));
        assertEquals(Double.NaN, Json.num(v, "missing", 3));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1] x"));
    }

    @Test
    void fioOutputIsReadOnWhicheverSideDidTheWork(@TempDir Path dir) throws Exception {
        // fio's nbd engine prints a line before the JSON.
        Files.writeString(dir.resolve("dmstack-randwrite-4k-qd1-r1.json"), "fio: connected to NBD server\n"
                + "{\"jobs\": [{\"read\": {\"iops\": 0, \"bw_bytes\": 0, \"clat_ns\": {\"mean\": 0}},"
                + " \"write\": {\"iops\": 2000.5, \"bw_bytes\": 8194048, \"clat_ns\": {\"mean\": 480000.0}}}]}");
        Files.writeString(dir.resolve("nbdkit-randwrite-4k-qd1-r1.json"),
                "{\"jobs\": [{\"read\": {\"iops\": 0}, \"write\": {\"iops\": 1000.25, \"bw_bytes\": 4097024, \"clat_ns\": {\"mean\": 990000}}}]}");
        List<FioResults.Row> rows = FioResults.read(dir);
        assertEquals(1, rows.size());
        FioResults.Row r = rows.getFirst();
        assertEquals(2000.5, r.runs("dmstack").getFirst().iops());
        assertEquals(480.0, r.runs("dmstack").getFirst().meanLatencyMicros());
        assertEquals(2000.5 / 1000.25, r.ratio("nbdkit").median(), 1e-9);
        assertEquals(0, r.ratio("qemu-nbd").rounds());
        String table = FioResults.table(rows);
        assertTrue(table.contains("| 4 KiB random write, QD 1 | 1 | 2,000 (0%) |") || table.contains("| 4 KiB random write, QD 1 | 1 | 2,001 (0%) |"), table);
        assertTrue(table.contains("| 200% (200–200%) | n/a | >= 100% | undecided |"), table); // one round decides nothing
    }

    @Test
    void roundsGiveTheMedianRatioAndEachServersSpread(@TempDir Path dir) throws Exception {
        double[][] iops = {{100, 50, 200}, {90, 60, 100}, {120, 40, 150}}; // per round: dmstack, nbdkit, qemu-nbd
        for (int round = 1; round <= 3; round++) {
            for (int s = 0; s < 3; s++) {
                Files.writeString(dir.resolve(FioResults.SERVERS[s] + "-read-1m-qd8-r" + round + ".json"),
                        "{\"jobs\": [{\"read\": {\"iops\": " + iops[round - 1][s] + "}, \"write\": {\"iops\": 0}}]}");
            }
        }
        FioResults.Row r = FioResults.read(dir).getFirst();
        assertEquals("1 MiB sequential read, QD 8", r.description());
        // Ratios to nbdkit per round: 2.0, 1.5, 3.0; to qemu-nbd: 0.5, 0.9, 0.8.
        assertEquals(new FioResults.Ratio(2.0, 1.5, 3.0, 3), r.ratio("nbdkit"));
        assertEquals(new FioResults.Ratio(0.8, 0.5, 0.9, 3), r.ratio("qemu-nbd"));
        assertEquals(100, r.iops("dmstack"));
        assertEquals((120 - 90) / 100.0, r.spread("dmstack"), 1e-9);
        assertEquals((60 - 40) / 50.0, r.spread("nbdkit"), 1e-9);
        String table = FioResults.table(List.of(r));
        assertTrue(table.contains("| 1 MiB sequential read, QD 8 | 3 | 100 (30%) | 50 (40%) | 150 (67%) | 200% (150–300%) | 80% (50–90%) | >= 120% | undecided |"), table);
    }

    @Test
    void theServersCpuTimePerRequestIsReadFromBesideTheJson(@TempDir Path dir) throws Exception {
        // fio busy 50% of a 4 s run: 2 s of CPU over 4,000 requests, 500 us each.
        String json = "{\"jobs\": [{\"job_runtime\": 4000, \"usr_cpu\": 10.0, \"sys_cpu\": 40.0,"
                + " \"read\": {\"iops\": 1000, \"total_ios\": 4000}, \"write\": {\"iops\": 0, \"total_ios\": 0}}]}";
        for (int round = 1; round <= 3; round++) {
            Files.writeString(dir.resolve("dmstack-randread-4k-qd32-r" + round + ".json"), json);
            Files.writeString(dir.resolve("dmstack-randread-4k-qd32-r" + round + ".cpu"), (20_000 + 8_000 * round) + "\n");
            Files.writeString(dir.resolve("nbdkit-randread-4k-qd32-r" + round + ".json"), json); // no .cpu: not recorded
        }
        FioResults.Row r = FioResults.read(dir).getFirst();
        assertEquals(7.0, r.runs("dmstack").getFirst().cpuMicrosPerRequest(), 1e-9); // 28,000 us over 4,000 requests
        assertEquals(9.0, r.cpuMicros("dmstack"), 1e-9); // rounds of 7, 9 and 11 us
        assertTrue(Double.isNaN(r.cpuMicros("nbdkit")));
        assertEquals(500.0, r.clientCpuMicros("dmstack"), 1e-9);
        assertEquals(0.5, r.clientCores("dmstack"), 1e-9);
        assertEquals("""
                | CPU per request (µs, median of rounds): server, and fio against it (fio's share of a core per job) | dmstack | nbdkit | qemu-nbd |
                |---|---:|---:|---:|
                | 4 KiB random read, QD 32 | 9.0, fio 500 (50%) | n/a, fio 500 (50%) | n/a, fio n/a (n/a) |
                """, FioResults.cpuTable(List.of(r)));
        assertEquals("", FioResults.cpuTable(List.of()), "nothing recorded, no table");
    }

    @Test
    void theOneConnectionGoalQuotesFiosShareOfACoreOnThoseRowsOnly(@TempDir Path dir) throws Exception {
        // fio's usr+sys share of its run, per server and workload; the 4 x 8 row has one far outside.
        String[][] shares = {{"randread-4k-qd32", "97", "80"}, {"write-1m-qd8", "63", "48"}, {"randread-4k-4x8", "10", "5"}};
        for (String[] w : shares) {
            for (int round = 1; round <= 3; round++) {
                for (int i = 0; i < 2; i++) {
                    String server = i == 0 ? "dmstack" : "nbdkit";
                    double iops = i == 0 ? 130 : 100;
                    Files.writeString(dir.resolve(server + "-" + w[0] + "-r" + round + ".json"), "{\"jobs\": [{\"job_runtime\": 2000, \"usr_cpu\": 0,"
                            + " \"sys_cpu\": " + w[1 + i] + ", \"read\": {\"iops\": " + iops + ", \"total_ios\": " + 2 * iops + "}, \"write\": {\"iops\": 0, \"total_ios\": 0}}]}");
                }
            }
        }
        Report.write(new Results(), dir, dir);
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("; fio's thread busy 63–97% of a core against dmstack, 48–80% against nbdkit |"), md);
        assertFalse(md.matches("(?s).*busy (5|10)[%–].*"), "the rows over several connections are not quoted: " + md);
    }

    @Test
    void theMixedWorkloadsRateIsItsOperationsOverItsRunTime(@TempDir Path dir) throws Exception {
        // A 10 s job of 100,000 writes whose verifying reads (99,000) took fio's read side a few
        // microseconds: fio's own read "iops" then says 99,000,000.
        for (int job = 1; job <= 2; job++) {
            Files.writeString(dir.resolve("dmstack-mixed-r1-" + job + ".json"), "{\"jobs\": [{\"job_runtime\": 10000,"
                    + " \"write\": {\"iops\": 10000, \"total_ios\": 100000, \"clat_ns\": {\"N\": 100000, \"max\": 40000000, \"percentile\": {\"99.900000\": 2000000}}},"
                    + " \"read\": {\"iops\": 99000000, \"total_ios\": 99000, \"clat_ns\": {\"N\": 99000, \"max\": 50000000, \"percentile\": {\"99.900000\": 3000000}}}}]}");
        }
        FioResults.Tail t = FioResults.mixed(dir).getFirst();
        assertEquals("dmstack", t.server());
        assertEquals(2 * (100_000 + 99_000) / 10.0, t.iops(), 1e-9);
        assertEquals(50.0, t.maxMillis(), 1e-9);
        assertEquals(3.0, t.p999Millis(), 1e-9);
    }

    @Test
    void theSignTestDecidesOnlyWhenTheRoundsAgreeEnough() {
        assertEquals(1.0 / 32, FioResults.Verdict.atLeast(5, 5), 1e-12);
        assertEquals(10.0 / 512, FioResults.Verdict.atLeast(9, 8), 1e-12);
        assertEquals(46.0 / 512, FioResults.Verdict.atLeast(9, 7), 1e-12);
        assertEquals(1.0, FioResults.Verdict.atLeast(9, 0), 1e-12);
        double[] allFiveAbove = {1.21, 1.3, 1.25, 1.5, 1.22};
        assertEquals(FioResults.Verdict.MET, FioResults.Verdict.of(allFiveAbove, 1.2));
        assertEquals(FioResults.Verdict.UNDECIDED, FioResults.Verdict.of(new double[] {1.21, 1.3, 1.19, 1.5, 1.22}, 1.2));
        assertEquals(FioResults.Verdict.NOT_MET, FioResults.Verdict.of(new double[] {0.9, 0.95, 1.1, 0.8, 0.99, 0.97, 0.93, 0.96, 0.91}, 1.0));
        assertEquals(FioResults.Verdict.UNDECIDED, FioResults.Verdict.of(new double[] {0.9, 1.05, 1.1, 0.8, 0.99, 0.97, 0.93, 0.96, 0.91}, 1.0));
        assertEquals(FioResults.Verdict.MET, FioResults.Verdict.of(new double[] {1.3, Double.NaN, 1.4, 1.25, 1.21, 1.6}, 1.2), "a missed round is left out");
        assertEquals(FioResults.Verdict.UNDECIDED, FioResults.Verdict.of(new double[0], 1.0));
    }

    @Test
    void aWorkloadsVerdictIsAgainstItsGoal(@TempDir Path dir) throws Exception {
        double[] d = {130, 115, 140, 118, 150}, k = {100, 100, 100, 100, 100};
        for (int round = 1; round <= 5; round++) {
            for (String w : new String[] {"randread-4k-qd1", "randread-4k-qd32"}) {
                Files.writeString(dir.resolve("dmstack-" + w + "-r" + round + ".json"), "{\"jobs\": [{\"read\": {\"iops\": " + d[round - 1] + "}}]}");
                Files.writeString(dir.resolve("nbdkit-" + w + "-r" + round + ".json"), "{\"jobs\": [{\"read\": {\"iops\": " + k[round - 1] + "}}]}");
            }
        }
        List<FioResults.Row> rows = FioResults.read(dir);
        assertEquals(FioResults.Verdict.MET, rows.get(0).verdict("nbdkit"), "QD 1: every round at 100% or more");
        assertEquals(FioResults.Verdict.UNDECIDED, rows.get(1).verdict("nbdkit"), "QD 32: 2 of 5 rounds under 120%");
        String table = FioResults.table(rows);
        assertTrue(table.contains("| >= 100% | met |\n"), table);
        assertTrue(table.contains("| >= 120% | undecided |\n"), table);
    }

    @Test
    void environmentAndScaleRowsSurviveSaving(@TempDir Path dir) throws Exception {
        Results r = new Results();
        r.environment.put("cpu", "test");
        r.measurements.add(new Results.Measurement("DaxBench.read", Map.of("stack", "RAW", "size", "4096", "writeCache", "false"), 1, "thrpt",
                1e6, Double.NaN, "ops/s", 1, 1.1e6));
        r.scale.add(new ScaleProbe.Row("x", 1.5, "ms", "note"));
        r.save(dir.resolve("r.json"));
        Results back = Results.load(dir.resolve("r.json"));
        assertEquals("test", back.environment.get("cpu"));
        assertEquals(1e6, back.find("DaxBench.read", 1, "stack", "RAW").score());
        assertEquals(1.1e6, back.find("DaxBench.read", 1, "stack", "RAW").best());
        assertTrue(Double.isNaN(back.measurements.getFirst().error()));
        assertEquals(r.scale, back.scale);
    }

    /** The bio path's shares, with one thread and with two, are the paired medians where those ran: JMH's separate runs only without them. */
    @Test
    void bioSharesComeFromThePairedRounds(@TempDir Path dir) throws Exception {
        Results r = new Results();
        for (int threads : new int[] {1, 2}) {
            for (String m : Report.BIO_METHODS) {
                for (String stack : new String[] {"DIRECT", "LINEAR", "STRIPE2"}) {
                    double score = stack.equals("DIRECT") ? 1000 : 500; // 50% by JMH's figures
                    r.measurements.add(new Results.Measurement("BioBench." + m, Map.of("stack", stack), threads, "thrpt", score, 0, "ops/s", 5, score));
                }
                r.paired.add(new PairedRatios.Ratio(PairedRatios.bioKey(m, "LINEAR", threads), "LINEAR", "DIRECT", threads == 1 ? 0.97 : 0.93, 0.9, 0.99, 15, false));
            }
        }
        Report.write(r, null, dir);
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("| Bio path through dm-linear, of brd directly | worst 93% (4 KiB random read, 2 threads) | >= 90% | **yes** |"), md);
        assertTrue(md.contains("| 4 KiB random write | 2 | 1,000 IOPS | 500 (93%) | 500 (50%) |"), "paired for dm-linear, JMH's for dm-stripe (not paired here): " + md);
        assertTrue(md.contains("| 1 MiB sequential read | 1 | 1,000 MiB/s | 500 (97%) | 500 (50%) |"), md);
    }

    /** Wider on a row by chance alone leaves the spread goal unjudged; wider beyond chance is "not met". */
    @Test
    void theSpreadGoalIsNotMetOnlyWhereARowIsWiderBeyondChance(@TempDir Path dir) throws Exception {
        double[] steady = {1000, 1001, 999, 1002, 998, 1003, 997, 1004, 996};
        double[] wild = {1000, 2000, 500, 3000, 400, 1500, 700, 2500, 300};
        double[] alike = {1000, 1003, 997, 1005, 995, 1002, 998, 1001, 999};
        writeRounds(dir, "read-1m-qd8", alike, steady); // wider by a hair
        Report.write(new Results(), dir, dir);
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("| NBD export: spread of dmstack's rounds no wider than nbdkit's | wider on 1 of 1 (most: 1 MiB sequential read, QD 8: "
                + "1% against 1%); beyond chance (permutation test, 5%) on none | every workload | not judged |"), md);
        writeRounds(dir, "read-1m-qd8", wild, steady);
        Report.write(new Results(), dir, dir);
        md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("beyond chance (permutation test, 5%) on 1: 1 MiB sequential read, QD 8: 270% against 1%, chance 0.000 | every workload | **NO** |"), md);
    }

    private static void writeRounds(Path dir, String workload, double[] dmstack, double[] nbdkit) throws Exception {
        for (int round = 1; round <= dmstack.length; round++) {
            Files.writeString(dir.resolve("dmstack-" + workload + "-r" + round + ".json"),
                    "{\"jobs\": [{\"read\": {\"iops\": " + dmstack[round - 1] + "}, \"write\": {\"iops\": 0}}]}");
            Files.writeString(dir.resolve("nbdkit-" + workload + "-r" + round + ".json"),
                    "{\"jobs\": [{\"read\": {\"iops\": " + nbdkit[round - 1] + "}, \"write\": {\"iops\": 0}}]}");
        }
    }
}
