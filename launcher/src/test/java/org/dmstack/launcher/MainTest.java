package org.dmstack.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's command line: help, version, and every argument error (one line, the usage, status 2). */
class MainTest {
    @TempDir Path dir;

    private record Run(int status, String out, String err) {}

    private Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(new byte[0]));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A wrong command line: status 2, nothing on stdout, the error in one line, then the usage; never a stack trace. */
    private void refused(String error, String... args) {
        Run r = run(args);
        assertEquals(2, r.status(), r.err());
        assertEquals("", r.out());
        String[] lines = r.err().split("\n");
        assertEquals("dmstack: " + error, lines[0]);
        assertTrue(lines[1].startsWith("Usage: dmstack"), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
    }

    @Test
    void everyArgumentErrorIsOneLineAndTheUsage() throws Exception {
        refused("Invalid value for option '--wait': 'abc' is not a long", "--wait", "abc");
        refused("Missing required parameter for option '-c' (COMMANDS)", "-c");
        refused("Missing required parameter for option '--config' (DIR)", "--config");
        refused("Missing required parameter for option '--run' (CMD)", "--run");
        refused("Unknown option: '--bogus'", "--bogus");
        refused("Unmatched argument at index 1: 'two'", "one", "two");
        refused("give either -c COMMANDS or SCRIPT, not both", "-c", "lsblk", "script.gosh");
        refused("--serve and --run run no shell commands (-c, SCRIPT): use 'dmstack ctl' on the running instance", "--serve", "-c", "lsblk");
        refused("--serve and --run run no shell commands (-c, SCRIPT): use 'dmstack ctl' on the running instance", "--run", "true", "-c", "lsblk");
        refused("--attach takes only --socket, -c COMMANDS or SCRIPT", "--attach", "--serve");
        refused("the config folder " + dir.resolve("nosuch") + " does not exist", "--config", dir.resolve("nosuch").toString(), "-c", "lsblk");
        refused("cannot read the script " + dir.resolve("nosuch.gosh") + ": No such file or directory", dir.resolve("nosuch.gosh").toString());
        Path binary = dir.resolve("binary.gosh");
        Files.write(binary, new byte[] {(byte) 0xC3, 0x28});
        refused("cannot read the script " + binary + ": not UTF-8 text", binary.toString());
    }

    @Test
    void ctlArgumentErrorsShowCtlsUsage() {
        Run r = run("ctl", "--bogus");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("dmstack: Unknown option: '--bogus'\nUsage: dmstack ctl"), r.err());
        r = run("ctl", "-c");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("dmstack: Missing required parameter for option '-c' (COMMANDS)\nUsage: dmstack ctl"), r.err());
    }

    @Test
    void helpAndVersionGoToStandardOutputWithStatusZero() {
        Run help = run("--help");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("Usage: dmstack [-hV]"), help.out());
        assertTrue(help.out().contains("--run=CMD") && help.out().contains("--strict") && help.out().contains("ctl "), help.out());
        assertEquals("", help.err());

        Run ctl = run("ctl", "--help");
        assertEquals(0, ctl.status());
        assertTrue(ctl.out().startsWith("Usage: dmstack ctl"), ctl.out());

        Run version = run("--version");
        assertEquals(0, version.status());
        assertTrue(version.out().matches("dmstack \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?\n"), version.out());
    }

    @Test
    void ctlWithNoInstanceSaysSoAndExitsThree() {
        Run r = run("ctl", "--socket", dir.resolve("none.sock").toString(), "-c", "lsblk");
        assertEquals(ControlClient.NOT_RUNNING, r.status());
        assertTrue(r.err().startsWith("dmstack: no dmstack is listening on " + dir.resolve("none.sock") + ": "), r.err());
        assertEquals(1, r.err().split("\n").length, r.err());
    }
}
