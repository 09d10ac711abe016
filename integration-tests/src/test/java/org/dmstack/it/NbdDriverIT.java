package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote export imported through the config folder: {@code nbd-remote.cfg} names an nbdkit
 * server (package nbdkit) on a Unix socket; a table that uses nbd0 waits until the server is
 * reachable, then comes up; removing the file removes the device.
 */
class NbdDriverIT {
    @TempDir
    Path config;
    @TempDir
    Path run;

    @Test
    void anNbdCfgFileImportsAnExportThatATableWaitsFor() throws Exception {
        Path sock = run.resolve("nbdkit.sock");
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.write("remote.table", "0 2048 linear nbd0 0\n");
            s.write("nbd-remote.cfg", "uri = nbd+unix:///?socket=" + sock + "\nname = nbd0\nconnections = 2\ntimeout = 30s\n");
            s.awaitTableState("remote", "pending: line 1: linear: Device lookup failed: nbd0: No such device");
            Process nbdkit = startNbdkit(sock);
            try {
                s.awaitOutput("dmsetup ls", "remote\t(254:0)\n");
                assertEquals("""
                        NAME     MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                        nbd0      43:0    0   4M  0 disk\s
                        └─remote 254:0    0   1M  0 dm  \s
                        """, s.run("lsblk"));
                assertEquals("write back\n", s.run("sysfs /sys/block/nbd0/queue/write_cache"));
                assertEquals("nbd+unix:///?socket=" + sock + "\n", s.run("sysfs /sys/block/nbd0/backend"));
                s.run("dd if=/dev/zero of=/dev/mapper/remote bs=64k count=16");
                s.delete("nbd-remote.cfg");
                s.awaitOutput("dmsetup ls", "remote\t(254:0)\n");
                s.awaitOutput("lsblk", """
                        NAME   MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                        remote 254:0    0   1M  0 dm  \s
                        """);
            } finally {
                nbdkit.destroyForcibly();
                nbdkit.waitFor();
            }
        }
    }

    private static Process startNbdkit(Path sock) throws IOException, InterruptedException {
        Path nbdkit = Path.of("/usr/bin/nbdkit");
        if (!Files.isExecutable(nbdkit) && !Files.isExecutable(nbdkit = Path.of("/usr/sbin/nbdkit"))) {
            fail("nbdkit is not installed: install the Debian package nbdkit (apt-get install -y nbdkit)");
        }
        Process p = new ProcessBuilder(nbdkit.toString(), "-f", "--exit-with-parent", "-U", sock.toString(), "memory", "4M")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long limit = System.nanoTime() + 30_000_000_000L; // a safety net, not a timing assertion
        while (true) {
            if (Files.exists(sock)) {
                try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
                    return p;
                } catch (IOException e) {
                    // not listening yet
                }
            }
            if (!p.isAlive() || System.nanoTime() > limit) fail("nbdkit did not start listening on " + sock);
            Thread.sleep(20);
        }
    }
}
