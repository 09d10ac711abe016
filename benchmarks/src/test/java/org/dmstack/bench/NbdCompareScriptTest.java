package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NBD comparison script, very briefly (one round of 1 s per workload and server, a 64 MiB
 * disk): it must run fio against the three servers and print them side by side. Needs fio (with
 * its nbd engine), nbdkit and qemu-nbd, which .ci/run installs; without them the test fails naming
 * the packages.
 */
class NbdCompareScriptTest {
    @Test
    void comparesDmstackNbdkitAndQemuNbdOnEveryWorkload(@TempDir Path out) throws Exception {
        String output = run(out, Map.of("MIXED_RUNS", "1"));

        List<FioResults.Row> rows = FioResults.read(out);
        assertEquals(FioResults.WORKLOADS.size(), rows.size(), output);
        for (FioResults.Row r : rows) {
            for (String s : FioResults.SERVERS) {
                assertTrue(r.runs(s).size() == 1 && r.iops(s) > 0, r.toString());
                assertTrue(r.cpuMicros(s) >= 0 && r.clientCpuMicros(s) > 0, "the server's and fio's CPU time per request are recorded: " + r);
                double cores = r.clientCores(s);
                assertTrue(cores > 0 && cores <= 1.05, "fio's share of a core, per job, is a share: " + r);
            }
        }
        assertTrue(output.contains("| 4 KiB random read, QD 32 | 1 |"), output);
        assertTrue(output.contains("| 1 MiB sequential write, QD 8 | 1 |"), output);
        assertTrue(output.contains("| 4 KiB random write, QD 32 over 4 connections (4 x 8) | 1 |"), output);
        assertTrue(output.contains("| 1 MiB sequential write, QD 8 over 2 connections (2 x 4) | 1 |"), output);
        assertTrue(output.contains("| CPU per request (µs, median of rounds): server, and fio against it (fio's share of a core per job) | dmstack | nbdkit | qemu-nbd |"), output);

        assertMixedRuns(out, 1, output);

        Results empty = new Results();
        Report.write(empty, out, out);
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("dmstack / nbdkit | dmstack / qemu-nbd |"), md);
        assertTrue(md.contains("| NBD export, 4 KiB QD 32, 1 MiB QD 8, one connection, of nbdkit's memory plugin (median of paired rounds) | worst "), md);
        assertTrue(md.matches("(?s).*\\| NBD export, 4 KiB QD 32, 1 MiB QD 8, one connection, of nbdkit's memory plugin \\(median of paired rounds\\) \\| worst [^|]*"
                + "; fio's thread busy [0-9–]+% of a core against dmstack, [0-9–]+% against nbdkit \\|.*"), md);
        assertTrue(md.contains("| CPU per request (µs, median of rounds): server, and fio against it (fio's share of a core per job) |"), md);
        assertTrue(md.contains("| NBD export, 4 KiB QD 32, 1 MiB QD 8, over 4 and 2 connections, of nbdkit's memory plugin (median of paired rounds) | worst "), md);
        assertTrue(md.contains("| NBD export, QD 1, of qemu-nbd on tmpfs (median of paired rounds) | worst "), md);
        assertTrue(md.contains("| NBD export: spread of dmstack's rounds no wider than nbdkit's | no wider on any workload |"), md);
        assertTrue(md.contains("| mixed workload |"), md);
        assertTrue(md.contains("| NBD mixed workload (2 fio jobs QD 16 with verify, 2 connecting probers): max completion latency, every run | worst "), md);
    }

    @Test
    void runsTheMixedWorkloadAloneWhenAsked(@TempDir Path out) throws Exception {
        Path autogroup = Path.of("/proc/sys/kernel/sched_autogroup_enabled");
        String before = Files.exists(autogroup) ? Files.readString(autogroup).trim() : null;
        String output = run(out, Map.of("ONLY", "mixed", "MIXED_RUNS", "2"));
        if (before == null) {
            assertTrue(output.contains(", no autogroup, load average "), output);
        } else {
            assertEquals(before, Files.readString(autogroup).trim(), "the script gives the kernel's autogroup setting back");
            String expected = before.equals("0") || Files.isWritable(autogroup) ? ", autogroup off, " : ", autogroup on, ";
            assertTrue(output.contains(expected + "load average "), "the header says how the run was scheduled: " + output);
        }
        assertEquals(List.of(), FioResults.read(out), "no other workload: " + output);
        assertFalse(output.contains("qemu-nbd"), output);
        assertMixedRuns(out, 2, output);
        assertTrue(output.indexOf("== dmstack: mixed workload, run 1") < output.indexOf("== nbdkit: mixed workload, run 1")
                && output.indexOf("== nbdkit: mixed workload, run 2") < output.indexOf("== dmstack: mixed workload, run 2"), "the servers take turns: " + output);
    }

    /** Runs the script briefly (one round of 1 s per workload and server, a 64 MiB disk) with {@code env}; its output. */
    private static String run(Path out, Map<String, String> env) throws Exception {
        assertTrue(onPath("fio") && onPath("nbdkit") && onPath("qemu-nbd"),
                "fio, nbdkit or qemu-nbd is not installed: apt-get install -y fio nbdkit qemu-utils");
        Path script = Path.of("nbd-compare.sh").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), out.toString()).redirectErrorStream(true);
        pb.environment().put("ROUNDS", "1");
        pb.environment().put("RUNTIME", "1");
        pb.environment().put("MIXED_RUNTIME", "1");
        pb.environment().put("MIXED_WARMUP", "1");
        pb.environment().put("WARMUP", "1");
        pb.environment().put("SIZE", "64M");
        pb.environment().put("DMSTACK_BENCH_CP", System.getProperty("java.class.path"));
        pb.environment().put("JAVA", ProcessHandle.current().info().command().orElse("java"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "script did not finish");
        assertEquals(0, p.exitValue(), output);
        return output;
    }

    /** Both servers ran the mixed workload {@code runs} times, and every prober read back what it wrote after warming up. */
    private static void assertMixedRuns(Path out, int runs, String output) throws Exception {
        List<FioResults.Tail> mixed = FioResults.mixed(out);
        assertEquals(List.of("dmstack", "nbdkit"), mixed.stream().map(FioResults.Tail::server).toList(), output);
        for (FioResults.Tail t : mixed) {
            assertEquals(runs, t.runs().size(), t.toString());
            assertTrue(t.iops() > 0 && t.maxMillis() > 0 && t.p999Millis() > 0, t.toString());
        }
        assertTrue(output.contains("| mixed workload | runs | IOPS (median) | p99.9 completion latency, worst run (ms) | max completion latency, worst run (ms) | max of each run (ms) |"), output);
        for (String server : List.of("dmstack", "nbdkit")) {
            for (int run = 1; run <= runs; run++) {
                for (int i = 1; i <= 2; i++) {
                    String log = Files.readString(out.resolve(server + "-prober-r" + run + "-" + i + ".log"));
                    assertTrue(log.startsWith("ready after ") && log.contains("all read back what they wrote"), log);
                }
            }
        }
    }

    /** Whether {@code tool} is an executable on the PATH. */
    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
