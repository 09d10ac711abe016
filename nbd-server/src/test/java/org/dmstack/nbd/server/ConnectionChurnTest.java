package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.dmstack.nbd.server.HoldResumeTest.eventually;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Clients that come and go all the time, as health checks and probers do: one after another,
 * each connects, writes a block, reads it back and disconnects. They are served by the same few
 * transmission threads, not a new operating-system thread each, mostly from the handshake on
 * (no virtual thread in between), with the buffers the ones before left, and once they stop
 * coming the threads end too.
 */
class ConnectionChurnTest {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Test
    void clientsThatConnectAgainAndAgainReuseTransmissionThreads() throws Exception {
        int clients = 200;
        try (NbdServer server = NbdServer.builder().device("disk", new MemBackend("ram0", 1 << 20), false).port(0).start()) {
            long before = THREADS.getTotalStartedThreadCount();
            for (int i = 0; i < clients; i++) {
                byte[] block = new byte[4096];
                Arrays.fill(block, (byte) i);
                try (RawClient c = RawClient.open(server.port(), "disk")) {
                    assertEquals(0, c.write(1, 4096, block).error());
                    RawClient.Reply back = c.read(2, 4096, 4096);
                    assertEquals(0, back.error());
                    assertArrayEquals(block, back.data(), "client " + i + " reads back what it wrote");
                    c.disconnect();
                }
            }
            long started = THREADS.getTotalStartedThreadCount() - before;
            assertTrue(started < 20, clients + " clients one after another started " + started + " platform threads");
            long virtual = server.virtualHandshakes();
            assertTrue(virtual < clients / 2, "a waiting transmission thread serves the next client from its handshake on; "
                    + virtual + " of " + clients + " handshakes ran on virtual threads");

            assertTrue(server.spareBuffersReused() >= clients, "clients after the first take the buffers (payload, read-ahead) that the ones before"
                    + " left instead of mapping their own: " + server.spareBuffersReused() + " reused for " + clients + " clients");
            assertTrue(server.mappedBytes() <= NbdServer.SPARE_BUFFER_BYTES, "what is kept stays within its bound: " + server.mappedBytes());

            eventually("idle transmission threads end", () -> transmitters() == 0);
        }
    }

    private static long transmitters() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("nbd-connection")).count();
    }
}
