package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.Test;

/** Many clients, pipelined requests, replies out of order, and nobody waiting for anybody else. */
class ConcurrencyTest extends ServerFixture {

    @Test
    void repliesComeOutOfOrderWhenRequestsFinishOutOfOrder() throws IOException {
        ram.holdWhen(b -> b.sector() == 0);
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.request(0, Nbd.CMD_READ, 1, 0, 4096, null); // held by the device
            c.request(0, Nbd.CMD_READ, 2, 4096, 4096, null);
            assertEquals(2, c.simpleReply(4096).handle(), "the second request overtakes the held first one");
            ram.release();
            RawClient.Reply first = c.simpleReply(4096);
            assertEquals(1, first.handle());
            assertEquals(0, first.error(), "a held bio completes late, not failed");
        }
    }

    @Test
    void pipelinedWritesAllLandAndAllAreAnswered() throws IOException {
        int n = 300; // more than the per-connection in-flight limit: the reader applies back-pressure
        try (RawClient c = RawClient.open(port(), "disk")) {
            for (int i = 0; i < n; i++) c.request(0, Nbd.CMD_WRITE, 1000 + i, i * 4096L, 4096, pattern(4096, i));
            Set<Long> handles = new HashSet<>();
            for (int i = 0; i < n; i++) {
                RawClient.Reply r = c.reply();
                assertEquals(0, r.error());
                handles.add(r.handle());
            }
            assertEquals(n, handles.size());
        }
        for (int i = 0; i < n; i++) assertArrayEquals(pattern(4096, i), bytesAt(ram, i * 8L, 4096), "write " + i);
    }

    @Test
    void aClientThatDoesNotReadItsRepliesStallsNobodyElse() throws Exception {
        try (RawClient slow = RawClient.open(port(), "disk")) {
            int n = 200; // 200 MiB of replies it will not read for now
            for (int i = 0; i < n; i++) slow.request(0, Nbd.CMD_READ, i, 0, 1 << 20, null);
            // Meanwhile others get on with their work, on the same export and on another.
            assertServerStillServes();
            try (RawClient other = RawClient.open(port(), "pmem")) {
                byte[] data = pattern(65536, 5);
                assertEquals(0, other.write(1, 0, data).error());
                assertArrayEquals(data, other.read(2, 0, data.length).data());
            }
            // And the slow client gets every reply, intact, when it reads at last.
            byte[] expected = bytesAt(ram, 0, 1 << 20);
            for (int i = 0; i < n; i++) {
                RawClient.Reply r = slow.simpleReply(1 << 20);
                assertEquals(0, r.error());
                assertArrayEquals(expected, r.data());
            }
        }
    }

    @Test
    void aDeviceThatHoldsBiosStallsNoOtherExport() throws IOException {
        pmem.holdWhen(b -> true);
        try (RawClient held = RawClient.open(port(), "pmem")) {
            held.request(0, Nbd.CMD_WRITE, 7, 0, 4096, pattern(4096, 1));
            assertServerStillServes();
            pmem.release();
            RawClient.Reply r = held.reply();
            assertEquals(7, r.handle());
            assertEquals(0, r.error());
        }
        assertArrayEquals(pattern(4096, 1), bytesAt(pmem, 0, 4096));
    }

    @Test
    void disconnectAnswersWhatIsInFlightFirst() throws IOException {
        ram.holdWhen(b -> b.sector() == 0);
        byte[] data = pattern(4096, 3);
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 4096, data);
            c.disconnect();
            ram.release();
            RawClient.Reply r = c.reply();
            assertEquals(1, r.handle());
            assertEquals(0, r.error());
            assertTrue(c.closedByServer());
        }
        assertArrayEquals(data, bytesAt(ram, 0, 4096));
    }

    @Test
    void manyClientsAtOnce() throws Exception {
        int clients = 16;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int id = i;
                done.add(pool.submit(() -> {
                    try (RawClient c = RawClient.open(port(), "disk")) {
                        for (int k = 0; k < 8; k++) {
                            long offset = (id * 8L + k) * 16384;
                            byte[] data = pattern(16384, offset);
                            assertEquals(0, c.write(k, offset, data).error());
                            assertArrayEquals(data, c.read(100 + k, offset, 16384).data());
                        }
                        c.disconnect();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        }
        for (long block = 0; block < clients * 8L; block++) {
            assertArrayEquals(pattern(16384, block * 16384), bytesAt(ram, block * 32, 16384), "block " + block);
        }
    }
}
