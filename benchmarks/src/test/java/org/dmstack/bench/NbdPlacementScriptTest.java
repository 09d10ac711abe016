package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue-depth-1 placement script, very briefly (one round of 1 s, a 64 MiB disk, each server
 * free and on one CPU): it must run fio against the three servers in every placement asked and
 * summarise them. Needs fio (with its nbd engine) and nbdkit, which .ci/run installs.
 */
class NbdPlacementScriptTest {
    @Test
    void measuresEveryServerInEveryPlacementAndSummarises(@TempDir Path out) throws Exception {
        assertTrue(NbdCompareScriptTest.onPath("fio") && NbdCompareScriptTest.onPath("nbdkit") && NbdCompareScriptTest.onPath("taskset"), "fio, nbdkit or taskset is not installed: apt-get install -y fio nbdkit");
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("nbd-placement.sh").toAbsolutePath().toString(), out.toString()).redirectErrorStream(true);
        pb.environment().put("ROUNDS", "1");
        pb.environment().put("RUNTIME", "1");
        pb.environment().put("PLACES", "free same");
        pb.environment().put("SIZE", "64M");
        pb.environment().put("DMSTACK_BENCH_CP", System.getProperty("java.class.path"));
        pb.environment().put("JAVA", ProcessHandle.current().info().command().orElse("java"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "script did not finish");
        assertEquals(0, p.exitValue(), output);

        List<String> rounds = Files.readAllLines(out.resolve("rounds.txt"));
        assertEquals(2 * 2 * 3, rounds.size(), "reads and writes, two placements, three servers: " + rounds);
        for (String r : rounds) assertTrue(r.matches("rand(read|write) (free|same) 1 (dmstack|dmstack-nopoll|nbdkit) [1-9][0-9]*"), r);
        assertTrue(output.contains("| workload | placement | dmstack IOPS | without busy poll | nbdkit | dmstack / nbdkit: median (range) | without busy poll / nbdkit |"), output);
        for (String w : List.of("randread", "randwrite")) {
            for (String place : List.of("free", "same")) {
                Pattern row = Pattern.compile("\\| 4 KiB " + w + ", QD 1 \\| " + place + " \\| [1-9][0-9]* \\| [1-9][0-9]* \\| [1-9][0-9]* \\| [0-9]+% \\([0-9]+-[0-9]+%\\) \\| [0-9]+% \\([0-9]+-[0-9]+%\\) \\|");
                assertTrue(row.matcher(output).find(), w + " " + place + ": " + output);
            }
        }
    }
}
