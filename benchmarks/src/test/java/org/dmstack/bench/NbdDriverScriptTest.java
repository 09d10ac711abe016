package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The driver's pairing script, very briefly (two rounds of 1 s, a 64 MiB nbdkit disk, this build
 * against itself): it must run NbdDriverLoad from both class paths in turns and summarise them.
 * Needs nbdkit, which .ci/run installs.
 */
class NbdDriverScriptTest {
    @Test
    void twoBuildsTakeTurnsAndTheSummaryGivesTheirRatio() throws Exception {
        assertTrue(NbdCompareScriptTest.onPath("nbdkit"), "nbdkit is not installed: apt-get install -y nbdkit");
        String cp = System.getProperty("java.class.path");
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("nbd-driver-ab.sh").toAbsolutePath().toString(), "write", "64k", "4", "2", "1")
                .redirectErrorStream(true);
        pb.environment().put("BASE_CP", cp);
        pb.environment().put("NEW_CP", cp);
        pb.environment().put("SIZE", "64M");
        pb.environment().put("FILL", "1");
        pb.environment().put("CONNECTIONS", "2");
        pb.environment().put("JAVA", ProcessHandle.current().info().command().orElse("java"));
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "script did not finish");
        assertEquals(0, p.exitValue(), output);
        String[] lines = output.strip().split("\n");
        assertEquals(4, lines.length, output);
        for (int i = 0; i < 2; i++) assertTrue(lines[i].matches("A +[1-9][0-9]*  B +[1-9][0-9]*  B/A +[0-9]+\\.[0-9]{2}"), lines[i]);
        assertTrue(Pattern.matches("median B/A [0-9.]+ \\([0-9.]+-[0-9.]+\\), B faster in [0-2] of 2", lines[2]), lines[2]);
        assertTrue(Pattern.matches("client CPU per request, median: A [0-9.]+ us, B [0-9.]+ us", lines[3]), lines[3]);
    }
}
