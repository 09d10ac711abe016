package org.dmstack.nbd.server;

import static org.dmstack.nbd.server.HoldResumeTest.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.dmstack.nbd.protocol.Nbd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients that try to hang the server, or to make it hold what they never pay for: half a
 * request and then silence, a request dribbled a byte at a time. Each test that could hang
 * fails by its JUnit timeout instead.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AdversarialClientTest {
    private static final long SIZE = 1 << 20;
    private final MemBackend mem = new MemBackend("mem", SIZE);
    private NbdServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private NbdServer start(NbdServer.Builder b) throws IOException {
        server = b.device("mem", mem, false).port(0).start();
        return server;
    }

    @Test
    void halfAWriteAndThenSilenceIsIdleAndDisconnected() throws Exception {
        start(NbdServer.builder().idleTimeout(Duration.ofMillis(300)));
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 4096, new byte[100]); // 100 bytes of its 4096
            assertTrue(c.closedByServer(), "a WRITE whose payload stops coming holds no request in flight");
            eventually("the session has ended", () -> server.connectionCount() == 0);
        }
        assertTrue(mem.log.isEmpty(), "nothing was written: " + mem.log);
    }

    @Test
    void aWriteDribbledAByteAtATimeIsDisconnected() throws Exception {
        start(NbdServer.builder().idleTimeout(Duration.ofMillis(300)));
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 4096, null);
            Thread dribbler = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 4096; i++) {
                        c.out.write(0x5a);
                        c.out.flush();
                        Thread.sleep(20);
                    }
                } catch (IOException | InterruptedException gone) {
                    // cut off, as it should be
                }
            });
            assertTrue(c.closedByServer(), "bytes that keep coming do not make a request that never ends");
            dribbler.interrupt();
            dribbler.join();
        }
        assertTrue(mem.log.isEmpty(), "nothing was written: " + mem.log);
    }

    @Test
    void aRequestInFlightKeepsTheSessionAcrossTheIdleTimeout() throws Exception {
        start(NbdServer.builder().idleTimeout(Duration.ofMillis(100)));
        mem.parkWrites = true; // a device that holds the write, as one held during a table swap
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_WRITE, 7, 0, 4096, new byte[4096]);
            eventually("the write reached the device", () -> mem.parked.size() == 1);
            Thread.sleep(500); // five idle timeouts with the write in flight
            mem.parked.poll().done(0, null);
            RawClient.Reply r = c.reply();
            assertEquals(7, r.handle());
            assertEquals(0, r.error(), "the session was kept for the write's reply");
            assertTrue(c.closedByServer(), "and then, idle, it is disconnected");
        }
    }

    @Test
    void clientsInTheHandshakeWhenTheServerStopsAreToldSo() throws Exception {
        start(NbdServer.builder());
        try (RawClient haggling = RawClient.negotiate(server.port()); RawClient old = RawClient.negotiate(server.port())) {
            Thread closer = Thread.ofVirtual().start(server::close);
            RawClient.OptReply r;
            do { // LIST until the server says it is stopping
                haggling.option(Nbd.OPT_LIST, new byte[0]);
                do r = haggling.optReply(); while (r.type() == Nbd.REP_SERVER);
            } while (r.type() == Nbd.REP_ACK);
            assertEquals(Nbd.OPT_LIST, r.option());
            assertEquals(Nbd.REP_ERR_SHUTDOWN, r.type(), r.toString());
            assertEquals("the server is shutting down", r.text());
            RawClient.OptReply go = haggling.go("mem");
            assertEquals(Nbd.REP_ERR_SHUTDOWN, go.type(), "no export is chosen any more: " + go);
            assertEquals("the server is shutting down", go.text());
            haggling.option(Nbd.OPT_ABORT, new byte[0]);
            RawClient.OptReply abort = haggling.optReply();
            assertEquals(Nbd.OPT_ABORT, abort.option());
            assertEquals(Nbd.REP_ACK, abort.type(), "NBD_OPT_ABORT is still acknowledged");
            assertTrue(haggling.closedByServer());

            old.option(Nbd.OPT_EXPORT_NAME, "mem".getBytes());
            assertTrue(old.closedByServer(), "NBD_OPT_EXPORT_NAME cannot be refused: hung up");
            closer.join();
        }
    }
}
