package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.dmstack.nbd.protocol.Nbd;
import org.junit.jupiter.api.Test;

/**
 * Backends that go away under connected clients (core being updated: nbd-export restarts) and
 * come back: the clients keep their connections, their requests wait and then run on the
 * backend that returned; only past the hold time do they fail, and then nothing is written.
 */
class HoldResumeTest {
    private static final long SIZE = 1 << 20;

    @Test
    void requestsSentWhileTheBackendsAreAwayAreHeldThenServedByTheOnesThatReturn() throws Exception {
        MemBackend before = new MemBackend("ram0", SIZE);
        FakeBackends first = backendsWith(before);
        try (NbdServer server = NbdServer.builder().backends(first).port(0).export("disk=ram0").start();
                RawClient c = RawClient.open(server.port(), "disk")) {
            byte[] early = pattern(8192, 1);
            assertEquals(0, c.write(1, 0, early).error());

            first.remove("ram0");
            server.backends(null); // nbd-export stops: core is being updated
            byte[] late = pattern(4096, 2);
            c.request(0, Nbd.CMD_WRITE, 2, 8192, late.length, late);
            c.request(0, Nbd.CMD_READ, 3, 0, 8192, null);
            c.request(0, Nbd.CMD_FLUSH, 4, 0, 0, null);
            eventually("the three requests wait", () -> server.heldRequests() == 3);
            assertEquals(List.of(), server.exportNames(), "the export is away meanwhile");

            // nbd-export is back, with a new backend over the same storage.
            MemBackend after = new MemBackend("ram0", before.memory);
            server.backends(backendsWith(after));
            Set<Long> handles = new java.util.HashSet<>();
            for (int i = 0; i < 3; i++) {
                RawClient.Reply r = c.simpleReply(h -> h == 3 ? 8192 : 0);
                assertEquals(0, r.error(), "held, not failed: handle " + r.handle());
                if (r.handle() == 3) assertArrayEquals(early, r.data(), "what was written before the update reads back");
                handles.add(r.handle());
            }
            assertEquals(Set.of(2L, 3L, 4L), handles);
            assertEquals(0, server.heldRequests());
            assertArrayEquals(late, bytes(after.memory, 8192, 4096));
            assertEquals(List.of("write 0 8192"), before.log, "nothing reached the withdrawn backend after it went");

            // The same connection goes on as before.
            assertEquals(0, c.write(5, 12288, late).error());
            RawClient.Reply r = c.read(6, 12288, 4096);
            assertEquals(0, r.error());
            assertArrayEquals(late, r.data());
        }
    }

    @Test
    void aRequestTheBackendTurnsDownWhileBeingWithdrawnWaitsForItsReplacement() throws Exception {
        MemBackend before = new MemBackend("ram0", SIZE);
        FakeBackends backends = backendsWith(before);
        try (NbdServer server = NbdServer.builder().backends(backends).port(0).export("disk=ram0").start();
                RawClient c = RawClient.open(server.port(), "disk")) {
            before.withdraw(); // withdrawn, and the server not told yet: the request races the withdrawal
            byte[] data = pattern(4096, 3);
            c.request(0, Nbd.CMD_WRITE, 1, 4096, data.length, data);
            eventually("the write waits", () -> server.heldRequests() == 1);

            MemBackend after = new MemBackend("ram0", before.memory);
            backends.add(after);
            RawClient.Reply r = c.reply();
            assertEquals(1, r.handle());
            assertEquals(0, r.error(), "held, not failed");
            assertEquals(List.of("write 4096 4096"), after.log);
            assertEquals(List.of(), before.log);
        }
    }

    @Test
    void aBlockStatusSentWhileTheBackendIsAwayIsAnsweredByTheOneThatReturns() throws Exception {
        FakeBackends first = backendsWith(new MemBackend("ram0", SIZE));
        try (NbdServer server = NbdServer.builder().backends(first).port(0).export("disk=ram0").start();
                RawClient c = RawClient.negotiate(server.port())) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.optReply().type());
            c.option(Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("disk", "base:allocation"));
            assertEquals(Nbd.REP_META_CONTEXT, c.optReply().type());
            assertEquals(Nbd.REP_ACK, c.optReply().type());
            assertEquals(Nbd.REP_ACK, c.go("disk").type());

            first.remove("ram0");
            server.backends(null);
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, SIZE, null);
            eventually("the query waits", () -> server.heldRequests() == 1);
            MemBackend after = new MemBackend("ram0", SIZE);
            after.dataSectors = new BitSet();
            after.dataSectors.set(0, 8);
            server.backends(backendsWith(after));
            RawClient.Chunk chunk = c.chunk();
            assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, chunk.type());
            assertEquals(1, chunk.handle());
            assertArrayEquals(ByteBuffer.allocate(20).putInt(1).putInt(4096).putInt(0).putInt((int) SIZE - 4096)
                    .putInt(Nbd.STATE_HOLE | Nbd.STATE_ZERO).array(), chunk.payload(), "the returned backend's holes");
        }
    }

    @Test
    void aRequestInFlightThatTheBackendGivesBackUnfinishedIsDoneAgainOnItsReplacement() throws Exception {
        MemBackend before = new MemBackend("ram0", SIZE);
        FakeBackends backends = backendsWith(before);
        try (NbdServer server = NbdServer.builder().backends(backends).port(0).export("disk=ram0").start();
                RawClient c = RawClient.open(server.port(), "disk")) {
            before.parkWrites = true;
            byte[] data = pattern(4096, 6);
            c.request(0, Nbd.CMD_WRITE, 1, 8192, data.length, data);
            eventually("the write reaches the backend", () -> !before.parked.isEmpty());
            backends.remove("ram0"); // its device torn down under the write, which was not done
            before.parked.poll().done(Backend.WITHDRAWN, "ram0 went away");
            eventually("the write waits", () -> server.heldRequests() == 1);

            MemBackend after = new MemBackend("ram0", before.memory);
            backends.add(after);
            RawClient.Reply r = c.reply();
            assertEquals(1, r.handle());
            assertEquals(0, r.error(), "done again on the backend that returned, not failed");
            assertEquals(List.of("write 8192 4096"), after.log);
            assertArrayEquals(data, bytes(after.memory, 8192, 4096));
        }
    }

    @Test
    void pastTheHoldTimeAHeldRequestFailsWithEioAndNothingIsWritten() throws Exception {
        MemBackend before = new MemBackend("ram0", SIZE);
        try (NbdServer server = NbdServer.builder().backends(backendsWith(before)).port(0).holdTimeout(Duration.ZERO).export("disk=ram0").start();
                RawClient c = RawClient.open(server.port(), "disk")) {
            server.backends(null);
            RawClient.Reply r = c.write(1, 0, pattern(512, 4));
            assertEquals(Nbd.EIO, r.error());
            assertEquals(List.of(), before.log);

            server.backends(backendsWith(new MemBackend("ram0", before.memory)));
            assertEquals(0, c.write(2, 0, pattern(512, 5)).error(), "the connection survived the failure");
        }
    }

    @Test
    void aClientChoosingAnExportWhileTheBackendsAreAwayIsAnsweredWhenTheyReturn() throws Exception {
        try (NbdServer server = NbdServer.builder().backends(null).port(0).export("disk=ram0").start();
                RawClient c = RawClient.negotiate(server.port())) {
            CompletableFuture<RawClient.OptReply> go = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.go("disk");
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertFalse(go.isDone(), "no answer (unknown export) while nbd-export is away");
            server.backends(backendsWith(new MemBackend("ram0", SIZE)));
            assertEquals(Nbd.REP_ACK, go.get().type());
            RawClient.Reply r = c.read(1, 0, 512);
            assertEquals(0, r.error());
        }
    }

    @Test
    void withoutBackendsPastTheHoldTimeAnExportIsUnknown() throws Exception {
        try (NbdServer server = NbdServer.builder().backends(null).port(0).holdTimeout(Duration.ZERO).export("disk=ram0").start();
                RawClient c = RawClient.negotiate(server.port())) {
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.go("disk").type());
            assertTrue(server.exports().contains(ExportSpec.parse("disk=ram0")));
        }
    }

    private static FakeBackends backendsWith(MemBackend b) {
        FakeBackends backends = new FakeBackends();
        backends.add(b);
        return backends;
    }

    private static byte[] pattern(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] bytes(MemorySegment m, long offset, int length) {
        byte[] b = new byte[length];
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, offset, b, 0, length);
        return b;
    }

    /** Waits for a condition of the server's (a safety net of 30 s, not a timing assertion). */
    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting: " + what);
            Thread.sleep(5);
        }
    }
}
