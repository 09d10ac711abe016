package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The placement script, very briefly (one round of 1 s, a 64 MiB disk): it must run fio against
 * the three servers in every placement asked and summarise them. Needs fio (with its nbd engine)
 * and nbdkit, which .ci/run installs.
 */
class NbdPlacementScriptTest {
    private static final String ROW_OF_FIGURES = " \\| [1-9][0-9]* \\| [1-9][0-9]* \\| [1-9][0-9]* \\| [0-9]+% \\([0-9]+-[0-9]+%\\) \\| [0-9]+% \\([0-9]+-[0-9]+%\\) \\|";

    /** The script's output, once it has succeeded with {@code env} beside the brief settings. */
    private static String run(Path out, Map<String, String> env) throws Exception {
        assertTrue(NbdCompareScriptTest.onPath("fio") && NbdCompareScriptTest.onPath("nbdkit") && NbdCompareScriptTest.onPath("taskset"), "fio, nbdkit or taskset is not installed: apt-get install -y fio nbdkit");
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("nbd-placement.sh").toAbsolutePath().toString(), out.toString()).redirectErrorStream(true);
        pb.environment().put("ROUNDS", "1");
        pb.environment().put("RUNTIME", "1");
        pb.environment().put("SIZE", "64M");
        pb.environment().put("DMSTACK_BENCH_CP", System.getProperty("java.class.path"));
        pb.environment().put("JAVA", ProcessHandle.current().info().command().orElse("java"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "script did not finish");
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("| workload | placement | dmstack IOPS | without busy poll | nbdkit | dmstack / nbdkit: median (range) | without busy poll / nbdkit |"), output);
        return output;
    }

    @Test
    void queueDepthOneByDefaultEveryServerInEveryPlacementAsked(@TempDir Path out) throws Exception {
        String output = run(out, Map.of("PLACES", "free same"));
        List<String> rounds = Files.readAllLines(out.resolve("rounds.txt"));
        assertEquals(2 * 2 * 3, rounds.size(), "reads and writes, two placements, three servers: " + rounds);
        for (String r : rounds) assertTrue(r.matches("rand(read|write) (free|same) 1 (dmstack|dmstack-nopoll|nbdkit) [1-9][0-9]*"), r);
        for (String w : List.of("randread", "randwrite")) {
            for (String place : List.of("free", "same")) {
                Pattern row = Pattern.compile("\\| 4 KiB " + w + ", QD 1 \\| " + place + ROW_OF_FIGURES);
                assertTrue(row.matcher(output).find(), w + " " + place + ": " + output);
            }
        }
    }

    @Test
    void anotherBlockSizeDepthAndNumberOfConnections(@TempDir Path out) throws Exception {
        String output = run(out, Map.of("PLACES", "split", "BS", "1m", "QD", "2", "JOBS", "2", "RWS", "write"));
        assertTrue(output.contains("NBD, 1 MiB, QD 2 over 2 connections, by placement: dmstack dmstack-nopoll nbdkit;"), output);
        List<String> rounds = Files.readAllLines(out.resolve("rounds.txt"));
        assertEquals(3, rounds.size(), "writes, one placement, three servers: " + rounds);
        for (String r : rounds) assertTrue(r.matches("write split 1 (dmstack|dmstack-nopoll|nbdkit) [1-9][0-9]*"), r);
        assertTrue(Pattern.compile("\\| 1 MiB write, QD 2 over 2 connections \\| split" + ROW_OF_FIGURES).matcher(output).find(), output);
    }
}
