package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dmstack as a daemon, driven as a user would with the ./dmstack script: the control socket
 * ({@code dmstack ctl}) of a {@code --serve} instance, captive mode ({@code --run}) with real NBD
 * clients, {@code --strict}, and the one-line reports of refused config files.
 */
class DaemonIT {
    static final Path DMSTACK = DmstackScriptIT.ROOT.resolve("dmstack");
    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    private ProcessBuilder builder(String... args) {
        List<String> command = new ArrayList<>(List.of(DMSTACK.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
        pb.environment().put("DMSTACK", DMSTACK.toString());
        pb.environment().remove("DMSTACK_SOCKET");
        return pb;
    }

    private Run dmstack(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "dmstack did not finish");
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private Path config(String... nameAndText) throws IOException {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        for (int i = 0; i < nameAndText.length; i += 2) Files.writeString(etc.resolve(nameAndText[i]), nameAndText[i + 1]);
        return etc;
    }

    @Test
    void captiveModeGivesTheProgramTheExportAndExitsWithItsStatus() throws Exception {
        Path etc = config("brd.cfg", "rd_nr = 1\nrd_size = 4096\n", "nbd.cfg", "port = 0\nexports = disk=ram0\n");
        Path socket = dir.resolve("d.sock");
        Run size = dmstack("--config", etc.toString(), "--socket", socket.toString(), "--run", "nbdinfo --size $uri");
        assertEquals(0, size.exit(), size.err());
        assertEquals("4194304\n", size.out());

        Run io = dmstack("--config", etc.toString(), "--socket", socket.toString(), "--run",
                "qemu-io -f raw -c 'write -P 0x5a 0 64k' -c 'read -P 0x5a 0 64k' -c 'read -P 0 64k 64k' \"$nbd\" | grep -c ^read; "
                + "case $uri in nbd://127.0.0.1:$port) echo uri ok;; esac; \"$DMSTACK\" ctl -c 'lsblk -a'");
        assertEquals(0, io.exit(), io.err());
        assertEquals("2\nuri ok\nNAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nram0   1:0    0   4M  0 disk \n", io.out());

        assertEquals(7, dmstack("--config", etc.toString(), "--socket", socket.toString(), "--run", "exit 7").exit());
        Run failed = dmstack("--config", etc.toString(), "--socket", socket.toString(), "--run", "qemu-io -f raw -c 'read -P 0x77 0 4k' $uri >/dev/null");
        assertEquals(1, failed.exit(), "qemu-io's failed verification: " + failed.err());
        assertFalse(Files.exists(socket), "the control socket is removed at the end");
    }

    /**
     * A driver bundle updated through the control socket while an NBD client writes and verifies:
     * the writer (qemu-io, one connection per 64 KiB write + verified read) runs before, during
     * and after the update of brd under the exported mapped device; then every region holds what
     * was last written to it.
     */
    @Test
    void aDriverUpdatedThroughCtlUnderVerifiedNbdWritesLosesNothing() throws Exception {
        Path etc = config("brd.cfg", "rd_nr = 1\nrd_size = 4096\n", "lin.table", "0 8192 linear ram0 0\n",
                "nbd.cfg", "port = 0\nexports = disk=/dev/dm-0\n", "dm.cfg", "hold_timeout_ms = 60000\n");
        String script = """
                set -u
                writer() {
                    i=0
                    while [ ! -e stop ]; do
                        off=$(( i % 64 * 65536 )); p=$(( i % 200 + 1 ))
                        qemu-io -f raw -c "write -P $p $off 64k" -c "read -P $p $off 64k" "$uri" > last.txt 2>&1 || { cat last.txt; exit 1; }
                        i=$(( i + 1 )); echo $i > ops.tmp; mv ops.tmp ops
                    done
                }
                ops() { cat ops 2>/dev/null || echo 0; }
                writer & w=$!
                until [ "$(ops)" -ge 10 ]; do sleep 0.05; done
                "$DMSTACK" ctl -c 'update org.dmstack.brd' || exit 1
                after=$(( $(ops) + 10 ))
                until [ "$(ops)" -ge $after ] || ! kill -0 $w 2>/dev/null; do sleep 0.05; done
                touch stop; wait $w || { echo "the writer failed"; exit 1; }
                n=$(ops)
                for k in $(seq 0 63); do
                    [ $k -ge $n ] && continue
                    last=$(( (n - 1 - k) / 64 * 64 + k ))
                    qemu-io -f raw -c "read -P $(( last % 200 + 1 )) $(( k * 65536 )) 64k" "$uri" > check.txt 2>&1 || { echo "region $k lost write $last"; cat check.txt; exit 1; }
                done
                echo "verified $n writes"
                """;
        Run r = dmstack("--config", etc.toString(), "--socket", dir.resolve("d.sock").toString(), "--run", script);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().matches("verified \\d+ writes\n"), r.out());
        System.out.println("daemon: brd updated through ctl under NBD writes: " + r.out().strip());
    }

    /** A running instance: two clients at once, a client killed mid-command, then a clean stop. */
    @Test
    void theControlSocketServesSeveralClientsAndSurvivesAKilledOne() throws Exception {
        Path etc = config("z.table", "0 2048 zero\n");
        Path socket = dir.resolve("run/d.sock");
        Process server = builder("--config", etc.toString(), "--socket", socket.toString(), "--serve")
                .redirectOutput(dir.resolve("serve.out").toFile()).redirectError(dir.resolve("serve.err").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (!Files.exists(socket)) {
                assertTrue(server.isAlive() && System.nanoTime() < deadline, "no control socket: " + Files.readString(dir.resolve("serve.err")));
                Thread.sleep(100);
            }
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            Run ls = dmstack("ctl", "--socket", socket.toString(), "-c", "dmsetup ls; echo done");
            assertEquals(new Run(0, "z\t(254:0)\ndone\n", ""), ls);
            assertEquals(1, dmstack("ctl", "--socket", socket.toString(), "-c", "dmsetup remove nosuch").exit());

            // Two at once: the first reads from the suspended device and waits; the second resumes it.
            assertEquals(0, dmstack("ctl", "--socket", socket.toString(), "-c", "dmsetup suspend z").exit());
            Process reader = builder("ctl", "--socket", socket.toString(), "-c", "dd if=/dev/mapper/z of=/dev/null bs=4096 count=1 status=none; echo read")
                    .redirectOutput(dir.resolve("reader.out").toFile()).redirectErrorStream(true).start();
            assertEquals(0, dmstack("ctl", "--socket", socket.toString(), "-c", "dmsetup resume z").exit());
            assertTrue(reader.waitFor(120, TimeUnit.SECONDS));
            assertEquals(0, reader.exitValue(), Files.readString(dir.resolve("reader.out")));
            assertEquals("read\n", Files.readString(dir.resolve("reader.out")));

            // Killed mid-command: it has printed "started" and waits on the suspended device.
            assertEquals(0, dmstack("ctl", "--socket", socket.toString(), "-c", "dmsetup suspend z").exit());
            Process killed = builder("ctl", "--socket", socket.toString(), "-c", "echo started; dd if=/dev/mapper/z of=/dev/null bs=4096 count=1").start();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(killed.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("started", in.readLine());
            }
            killed.destroyForcibly().waitFor();
            Run healthy = dmstack("ctl", "--socket", socket.toString(), "-c", "dmsetup resume z; dd if=/dev/mapper/z of=/dev/null bs=4096 count=2 status=none; dmsetup info z");
            assertEquals(0, healthy.exit(), healthy.err());
            assertTrue(healthy.out().contains("\nState:             ACTIVE\n"), healthy.out());
            assertTrue(server.isAlive());
        } finally {
            server.destroy();
            assertTrue(server.waitFor(120, TimeUnit.SECONDS));
        }
        assertEquals(143, server.exitValue(), "SIGTERM: " + Files.readString(dir.resolve("serve.err")));
        assertFalse(Files.exists(socket), "the control socket is removed on SIGTERM");
    }

    /**
     * The interactive shell (here on a dumb terminal, commands from a pipe): the greeting, then the
     * commands; the completion's sources of device names (from dmstack's gosh_profile) work.
     */
    @Test
    void theInteractiveShellGreetsAndKnowsTheDevicesItCompletes() throws Exception {
        Path etc = config("z.table", "0 2048 zero\n", "nbd.cfg", "port = 0\n");
        Path socket = dir.resolve("g.sock");
        Files.writeString(dir.resolve("input"), "dmsetup ls\necho $(__dmstack_mapped) $(__dmstack_disks)\n");
        Process p = builder("--config", etc.toString(), "--socket", socket.toString()).redirectInput(dir.resolve("input").toFile())
                .redirectOutput(dir.resolve("shell.out").toFile()).redirectError(dir.resolve("shell.err").toFile()).start();
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "the shell did not end at the end of its input");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("shell.err")));
        List<String> lines = Files.readAllLines(dir.resolve("shell.out"));
        assertTrue(lines.get(0).matches("dmstack \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? - the Linux device-mapper and DAX block stack on the JVM"), lines.get(0));
        assertEquals("devices: z (dm-0)", lines.get(1));
        assertTrue(lines.get(2).matches("NBD:     nbd://127\\.0\\.0\\.1:\\d+"), lines.get(2));
        assertEquals("control: dmstack ctl --socket " + socket + " -c 'COMMANDS'", lines.get(3));
        assertEquals("Type 'help' for the commands, 'help dmsetup' for one; Tab completes; 'exit 0' or Ctrl-D stops dmstack.", lines.get(4));
        assertEquals("g! z\t(254:0)", lines.get(5));
        assertEquals("g! z dm-0", lines.get(6));
    }

    @Test
    void refusedConfigFilesAreOneLineEachAndStrictStops() throws Exception {
        Path etc = config("brd.cfg", "rd_nr = abc\n", "nbd.cfg", "port = notaport\n", "z.table", "0 2048 zero\n");
        Files.write(etc.resolve("bin.table"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, (byte) 0xff, (byte) 0xfe});
        Run lenient = dmstack("--config", etc.toString(), "-c", "dmsetup ls");
        assertEquals(0, lenient.exit(), lenient.err());
        assertEquals("z\t(254:0)\n", lenient.out());
        List<String> lines = lenient.err().lines().map(l -> l.replaceFirst("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} ", "")).sorted().toList();
        assertEquals(List.of(
                "ERROR ComponentFailures: brd.cfg: configuration refused: brd: rd_nr must be a whole number of devices, not 'abc'",
                "ERROR ComponentFailures: nbd.cfg: configuration refused: port: not a number: \"notaport\"",
                "ERROR TableFiles: device-mapper: bin: bin.table cannot be read: binary data, not a table (not UTF-8 text) (not created)"), lines);

        Run strict = dmstack("--config", etc.toString(), "--strict", "-c", "dmsetup ls");
        assertEquals(1, strict.exit());
        assertEquals("", strict.out(), "--strict runs no commands when a config file was refused");
        assertTrue(strict.err().contains("dmstack: --strict: refused at start: bin.table: cannot be read: binary data, not a table (not UTF-8 text) (not created)\n"
                + "dmstack: --strict: refused at start: brd.cfg: brd: rd_nr must be a whole number of devices, not 'abc'\n"
                + "dmstack: --strict: refused at start: nbd.cfg: port: not a number: \"notaport\"\n"), strict.err());

        Files.delete(etc.resolve("bin.table"));
        Files.writeString(etc.resolve("brd.cfg"), "rd_nr = 1\n");
        Files.delete(etc.resolve("nbd.cfg"));
        Run fixed = dmstack("--config", etc.toString(), "--strict", "-c", "dmsetup ls");
        assertEquals(new Run(0, "z\t(254:0)\n", ""), fixed);
    }
}
