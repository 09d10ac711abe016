package org.dmstack.nbd.server;

import static org.dmstack.nbd.server.HoldResumeTest.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.dmstack.nbd.protocol.Nbd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients that try to hang the server, or to make it hold what they never pay for: half a
 * request and then silence, a request or a handshake dribbled a byte at a time, replies never
 * read, options without end, a handshake under way as the server stops, leaving mid-reply or
 * mid-payload, a half-close. nbd-server/README.md lists what was checked. Each test that could
 * hang fails by its JUnit timeout instead.
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
            Thread dribbler = dribble(c, new byte[4096], 20);
            assertTrue(c.closedByServer(), "bytes that keep coming do not make a request that never ends");
            dribbler.interrupt();
            dribbler.join();
        }
        assertTrue(mem.log.isEmpty(), "nothing was written: " + mem.log);
    }

    @Test
    void aRequestInFlightKeepsTheSessionAcrossTheIdleTimeout() throws Exception {
        start(NbdServer.builder().idleTimeout(Duration.ofMillis(500)));
        mem.parkWrites = true; // a device that holds the write, as one held during a table swap
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_WRITE, 7, 0, 4096, new byte[4096]);
            eventually("the write reached the device", () -> mem.parked.size() == 1);
            Thread.sleep(1500); // three idle timeouts with the write in flight
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

    @Test
    void aClientThatHagglesForEverIsCutOffAfterMaxOptions() throws Exception {
        start(NbdServer.builder().maxOptions(4));
        try (RawClient c = RawClient.negotiate(server.port())) {
            for (int i = 1; i <= 4; i++) {
                c.option(Nbd.OPT_INFO, RawClient.infoRequest("none"));
                assertEquals(Nbd.REP_ERR_UNKNOWN, c.optReply().type(), "option " + i + " is answered");
            }
            c.option(Nbd.OPT_INFO, RawClient.infoRequest("none"));
            RawClient.OptReply r = c.optReply();
            assertEquals(Nbd.OPT_INFO, r.option());
            assertEquals(Nbd.REP_ERR_POLICY, r.type(), r.toString());
            assertEquals("no export chosen after 4 options (max.options)", r.text());
            assertTrue(c.closedByServer(), "and then disconnected, as nbdkit does after 32");
        }
        try (RawClient c = RawClient.negotiate(server.port())) {
            for (int i = 1; i <= 4; i++) {
                c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
                c.optReply();
            }
            c.option(Nbd.OPT_EXPORT_NAME, "mem".getBytes());
            assertTrue(c.closedByServer(), "NBD_OPT_EXPORT_NAME over the limit cannot be refused: hung up");
        }
        try (RawClient c = RawClient.negotiate(server.port())) {
            for (int i = 1; i <= 4; i++) {
                c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
                c.optReply();
            }
            c.option(Nbd.OPT_ABORT, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.optReply().type(), "NBD_OPT_ABORT is not counted: a client may always leave");
        }
    }

    @Test
    void listingTheExportsAllowsAsManyOptionsAgainForEachOnce() throws Exception {
        server = NbdServer.builder().device("a", new MemBackend("a", SIZE), false).device("b", new MemBackend("b", SIZE), false)
                .maxOptions(2).port(0).start();
        try (RawClient c = RawClient.negotiate(server.port())) {
            c.option(Nbd.OPT_LIST, new byte[0]); // 1 of 2, and 2 + 2 × 2 from here: 6
            while (c.optReply().type() != Nbd.REP_ACK) {
                // the exports
            }
            c.option(Nbd.OPT_LIST, new byte[0]); // 2 of 6: a second LIST allows nothing more
            while (c.optReply().type() != Nbd.REP_ACK) {
                // the exports again
            }
            for (int i = 3; i <= 5; i++) {
                assertEquals(Nbd.REP_ACK, c.info(Nbd.OPT_INFO, i % 2 == 0 ? "a" : "b").type(), "option " + i);
            }
            assertEquals(Nbd.REP_ACK, c.go("a").type(), "the sixth chooses an export");
            assertEquals(0, c.write(1, 0, new byte[512]).error());
        }
    }

    @Test
    void aClientThatNeverReadsItsRepliesIsDisconnectedAfterTheIdleTimeoutAndStallsNoOneElse() throws Exception {
        start(NbdServer.builder().idleTimeout(Duration.ofSeconds(1)));
        try (RawClient deaf = RawClient.open(server.port(), "mem")) {
            Thread pusher = Thread.ofVirtual().start(() -> {
                try {
                    for (int k = 0; k < 10_000; k++) deaf.request(0, Nbd.CMD_READ, k, 0, SIZE, null); // 1 MiB each, none read
                } catch (IOException cutOff) {
                    // the server closed the connection
                }
            });
            for (int i = 0; i < 10; i++) {
                try (RawClient other = RawClient.open(server.port(), "mem")) {
                    assertEquals(0, other.write(i, 4096L * i, new byte[4096]).error(), "other clients are served meanwhile");
                    other.disconnect();
                }
            }
            eventually("the deaf client's session has ended, its socket still open on its side", () -> server.connectionCount() == 0);
            pusher.join();
        }
        try (RawClient next = RawClient.open(server.port(), "mem")) {
            assertEquals(0, next.read(99, 0, 4096).error(), "and the server carries on");
        }
    }

    @Test
    void aHandshakeDribbledAByteAtATimeEndsAtTheHandshakeTimeout() throws Exception {
        start(NbdServer.builder().handshakeTimeout(Duration.ofMillis(300)));
        try (RawClient c = RawClient.negotiate(server.port())) {
            byte[] info = RawClient.infoRequest("mem", Nbd.INFO_BLOCK_SIZE);
            byte[] go = ByteBuffer.allocate(16 + info.length).putLong(Nbd.IHAVEOPT).putInt(Nbd.OPT_GO).putInt(info.length).put(info).array();
            Thread dribbler = dribble(c, go, 50);
            assertTrue(c.closedByServer(), "the handshake timeout counts from the connect, however the bytes come");
            dribbler.interrupt();
            dribbler.join();
        }
        eventually("the session has ended", () -> server.connectionCount() == 0);
    }

    @Test
    void clientsThatLeaveMidReplyOrMidPayloadLeaveNothingBehind() throws Exception {
        start(NbdServer.builder());
        long threads = nbdThreads();
        for (int i = 0; i < 20; i++) {
            try (RawClient reads = RawClient.open(server.port(), "mem"); RawClient writes = RawClient.open(server.port(), "mem")) {
                for (int k = 0; k < 16; k++) reads.request(0, Nbd.CMD_READ, k, 0, SIZE, null);
                reads.in.readNBytes(16 + 1000); // a reply's header and some of its data
                reads.socket.setSoLinger(true, 0); // gone at once (RST), the server's writes fail mid-reply
                writes.request(0, Nbd.CMD_WRITE, 1, 0, SIZE, new byte[(int) SIZE / 2]); // half a payload
            }
        }
        eventually("every session has ended (each ends once its last permit is back)", () -> server.connectionCount() == 0);
        assertTrue(server.mappedBytes() <= NbdServer.SPARE_BUFFER_BYTES, "payload buffers unmapped but the server's spare: " + server.mappedBytes());
        eventually("no connection or sender thread is left", () -> nbdThreads() <= threads);
        assertTrue(mem.log.stream().noneMatch(l -> l.startsWith("write")), "no half payload was written: " + mem.log);
    }

    @Test
    void aClientThatHalfClosesGetsTheRepliesToWhatItSentAndThenTheEnd() throws Exception {
        start(NbdServer.builder());
        mem.parkWrites = true;
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 4096, new byte[4096]);
            c.request(0, Nbd.CMD_READ, 2, 8192, 512, null);
            c.socket.shutdownOutput(); // TCP half-close: no more requests, replies still wanted
            RawClient.Reply read = c.simpleReply(512);
            assertEquals(2, read.handle());
            assertEquals(0, read.error());
            eventually("the write reached the device", () -> mem.parked.size() == 1);
            mem.parked.poll().done(0, null);
            RawClient.Reply write = c.reply();
            assertEquals(1, write.handle(), "the write in flight is answered after the half-close");
            assertEquals(0, write.error());
            assertTrue(c.closedByServer(), "then the server closes");
        }
    }

    @Test
    void aClientWaitingForBackendsPastItsHandshakeTimeoutGivesBackItsPlace() throws Exception {
        server = NbdServer.builder().backends(null).export("disk=ram0").holdTimeout(Duration.ofMinutes(10))
                .handshakeTimeout(Duration.ofMillis(300)).maxConnections(1).port(0).start(); // no backends: core being updated
        try (RawClient c = RawClient.negotiate(server.port())) {
            c.option(Nbd.OPT_GO, RawClient.infoRequest("disk")); // waits for the backends
            // Answered NBD_REP_ERR_UNKNOWN when the wait ends, or not, if the timeout comes first;
            // either way the socket is closed at the handshake timeout.
            c.in.readAllBytes();
        }
        eventually("its place under the connection limit is free again, not held for the hold time",
                () -> server.connectionCount() == 0);
        FakeBackends backends = new FakeBackends();
        backends.add(new MemBackend("ram0", SIZE));
        server.backends(backends);
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertEquals(0, c.write(1, 0, new byte[512]).error(), "the next client is served");
        }
    }

    @Test
    void aClientThatGoesQuietAfterALargeWriteDoesNotKeepItsBufferResident() throws Exception {
        server = NbdServer.builder().device("big", new MemBackend("big", 64L << 20), false).port(0).start();
        try (RawClient c = RawClient.open(server.port(), "big")) {
            assertEquals(0, c.write(1, 0, new byte[Nbd.MAX_PAYLOAD]).error());
            eventually("once the client is quiet its 32 MiB buffer goes; only its read-ahead and the server's spare are left",
                    () -> server.mappedBytes() <= NbdServer.SPARE_BUFFER_BYTES + Transmission.READ_AHEAD);
            assertEquals(0, c.write(2, 0, new byte[Nbd.MAX_PAYLOAD]).error(), "and it is served as before");
        }
    }

    /** Sends {@code bytes} one at a time, {@code millis} apart, until they are all sent or the server has cut the client off. */
    private static Thread dribble(RawClient c, byte[] bytes, long millis) {
        return Thread.ofVirtual().start(() -> {
            try {
                for (byte b : bytes) {
                    c.out.write(b);
                    c.out.flush();
                    Thread.sleep(millis);
                }
            } catch (IOException | InterruptedException cutOff) {
                // what the test waits for
            }
        });
    }

    /** Platform threads of NBD servers (virtual threads are not listed). */
    private static long nbdThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("nbd-")).count();
    }
}
