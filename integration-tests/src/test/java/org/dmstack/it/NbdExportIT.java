package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NBD export in a real framework never fails open: it serves only what nbd.cfg says, only while it exists. */
class NbdExportIT {
    @TempDir Path config;

    @Test
    void servesOnlyWhatNbdCfgSaysAndOnlyWhileItExists() throws Exception {
        int port = freePort();
        try (ItStack s = ItStack.start(config)) {
            s.write("brd.cfg", "rd_nr = 2\nrd_size = 4096\n");
            ItStack.await("the RAM disks", () -> s.run("lsblk -a").contains("ram1"));
            assertEquals(List.of(), nbdServers(), "without nbd.cfg nothing listens, not even on 10809");

            s.write("nbd.cfg", "address = 127.0.0.1\nport = " + port + "\nexports = golden=ram0:ro, dm=lin\n");
            ItStack.await("the server on " + port, () -> nbdServers().equals(List.of("nbd-accept /127.0.0.1:" + port)));
            String list = nbdinfo("--list", "nbd://127.0.0.1:" + port);
            assertTrue(list.contains("export=\"golden\""), list);
            assertTrue(list.contains("is_read_only: true"), list);
            assertTrue(!list.contains("ram1") && !list.contains("export=\"dm\""), "only the configured, resolvable exports: " + list);
            // brd's holes reach clients through core's Holes, across the bundles.
            s.run("dd if=/dev/zero of=/dev/ram0 bs=4k seek=1 count=2");
            assertEquals("         0        4096    3  hole,zero\n      4096        8192    0  data\n     12288     4182016    3  hole,zero\n",
                    nbdinfo("--map", "nbd://127.0.0.1:" + port + "/golden"));

            s.delete("nbd.cfg");
            ItStack.await("the server to stop", () -> nbdServers().isEmpty());
            assertThrows(ConnectException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close(),
                    "deleting nbd.cfg stops the server; it does not fall back to exporting every device");
        }
    }

    @Test
    void atStartTheServerListensOnlyWithItsConfiguration() throws Exception {
        int port = freePort();
        java.nio.file.Files.writeString(config.resolve("brd.cfg"), "rd_nr = 1\nrd_size = 4096\n");
        java.nio.file.Files.writeString(config.resolve("nbd.cfg"), "port = " + port + "\nexports = ram0:ro\n");
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread watcher = Thread.ofPlatform().daemon().start(() -> {
            while (!Thread.currentThread().isInterrupted()) seen.addAll(nbdServers());
        });
        try (ItStack s = ItStack.start(config)) {
            ItStack.await("the server on " + port, () -> nbdServers().equals(List.of("nbd-accept /127.0.0.1:" + port)));
        } finally {
            watcher.interrupt();
            watcher.join();
        }
        assertEquals(java.util.Set.of("nbd-accept /127.0.0.1:" + port), seen, "no server with a default configuration came first");
    }

    /** Listening NBD servers in this JVM, by their accept threads. */
    private static List<String> nbdServers() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).filter(n -> n.startsWith("nbd-accept")).sorted().toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    private static String nbdinfo(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("nbdinfo"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "nbdinfo did not finish");
        assertEquals(0, p.exitValue(), "nbdinfo (Debian package libnbd-bin) failed: " + out);
        return out;
    }
}
