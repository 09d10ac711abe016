package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Open counts in the real bundles, with a real NBD client (libnbd, python3-libnbd) connected to an
 * export of a mapped device: as in 6.1, where nbd-server holds its export's device open for each
 * client, dmsetup info counts the client, dmsetup remove is busy, --deferred removes at the last
 * disconnect, --force gives the client EIO, and the config folder's removal stays pending.
 */
class OpenCountIT {
    private static final String BRD = "rd_nr = 1\nrd_size = 4096\n";
    private static final String BUSY = "device-mapper: remove ioctl on lv  failed: Device or resource busy (used by nbd client 127.0.0.1:";

    @TempDir Path config;
    @TempDir Path tmp;

    @Test
    void aConnectedClientCountsAndKeepsTheConfigFoldersRemovalPending() throws Exception {
        int port = freePort();
        Files.writeString(config.resolve("brd.cfg"), BRD);
        Files.writeString(config.resolve("lv.table"), "0 8192 linear ram0 0\n");
        Files.writeString(config.resolve("nbd.cfg"), "port = " + port + "\nexports = lv=dm-0\n");
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup ls", "lv\t(254:0)\n");
            assertEquals("Open count:        0", openCount(s));
            try (Client c = new Client(port)) {
                assertEquals("Open count:        1", openCount(s));
                String refusal = s.fail("dmsetup remove lv");
                assertTrue(refusal.matches("\\Q" + BUSY + "\\E\\d+\\)\nCommand failed\\."), refusal);
                s.delete("lv.table");
                ItStack.await("the removal pending", () -> s.tableState("lv").startsWith("removing: remove ioctl on lv failed: Device or resource busy"));
                assertEquals("lv\t(254:0)\n", s.run("dmsetup ls"));
                assertEquals("read ok", c.say("read"), "the device still serves its client");
                assertEquals("disconnected", c.say("quit"));
            }
            s.awaitOutput("dmsetup ls", "No devices found\n");
        }
    }

    @Test
    void forceGivesTheClientEioAndDeferredRemovesAtTheLastDisconnect() throws Exception {
        int port = freePort();
        Files.writeString(config.resolve("brd.cfg"), BRD);
        Files.writeString(config.resolve("nbd.cfg"), "port = " + port + "\nexports = lv=dm-0\n");
        try (ItStack s = ItStack.startWithLinear(config)) {
            ItStack.await("the RAM disk", () -> s.run("lsblk -a").contains("ram0"));
            s.run("dmsetup create lv --table '0 8192 linear ram0 0'");
            try (Client first = new Client(port); Client second = new Client(port)) {
                assertEquals("Open count:        2", openCount(s), "each connection is an opener");
                assertEquals("disconnected", second.say("quit"));
                ItStack.await("the disconnect to close", () -> openCount(s).equals("Open count:        1"));
                // dmsetup's _error_device, then the remove, which 6.1 still refuses: the device is open.
                String refusal = s.fail("dmsetup remove --force lv");
                assertTrue(refusal.matches("\\Q" + BUSY + "\\E\\d+\\)\nCommand failed\\."), refusal);
                assertEquals("0 8192 error \n", s.run("dmsetup table lv")); // dmsetup prints the empty parameters after a space
                assertEquals("read failed: EIO", first.say("read"));
                s.run("dmsetup remove --deferred lv");
                assertTrue(s.run("dmsetup info lv").contains("State:             ACTIVE (DEFERRED REMOVE)\n"));
                assertEquals("disconnected", first.say("quit"));
            }
            s.awaitOutput("dmsetup ls", "No devices found\n");
        }
    }

    private static String openCount(ItStack s) {
        return s.run("dmsetup info lv").lines().filter(l -> l.startsWith("Open count:")).findFirst().orElse("no Open count line");
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** libnbd's client in a process of its own (resource nbd-opener.py), connected to export lv until it is told to quit. */
    private final class Client implements AutoCloseable {
        private final Process process;
        private final BufferedReader out;
        private final PrintStream in;

        Client(int port) throws Exception {
            awaitListening(port);
            Path script = tmp.resolve("nbd-opener.py");
            if (!Files.exists(script)) {
                try (var r = OpenCountIT.class.getResourceAsStream("/nbd-opener.py")) {
                    Files.copy(r, script);
                }
            }
            // Debian's python3, which python3-libnbd installs the nbd module into.
            process = new ProcessBuilder("/usr/bin/python3", script.toString(), "nbd://127.0.0.1:" + port + "/lv").redirectErrorStream(true).start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            String first = out.readLine();
            if (!"connected".equals(first)) fail("the libnbd client did not connect (apt-get install -y python3-libnbd): " + first);
        }

        /** Sends a word; returns the client's answer. */
        String say(String word) throws IOException {
            in.println(word);
            return out.readLine();
        }

        private static void awaitListening(int port) throws InterruptedException {
            ItStack.await("the NBD server on " + port, () -> {
                try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            in.close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }
}
