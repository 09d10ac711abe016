package org.dmstack.nbd;

import static org.dmstack.nbd.ExportsFollowDevicesTest.eventually;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clients that attack the server rather than use it: they leave mid-request, never finish the
 * handshake, never send a request, never read their replies, or come in crowds. The server
 * gives back everything they held, and says no clearly when it has to.
 */
class HostileClientsTest {
    private static final int MIB = 1 << 20;

    @Test
    void oversizedWritesFromClientsThatLeaveGiveEverythingBack() throws Exception {
        MemDisk big = MemDisk.of("ram9", 9, 64L * MIB);
        try (NbdServer s = NbdServer.builder().port(0).maxConnections(1000).device("big", new BlockBackend(big.disk), false).start()) {
            long sockets = openSockets();
            long threads = nbdThreads();
            for (int round = 1; round <= 2; round++) {
                List<RawClient> clients = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    RawClient c = RawClient.open(s.port(), "big");
                    // A 32 MiB WRITE with one byte of its payload, then gone.
                    c.out.writeInt(Nbd.REQUEST_MAGIC);
                    c.out.writeShort(0);
                    c.out.writeShort(Nbd.CMD_WRITE);
                    c.out.writeLong(i);
                    c.out.writeLong(0);
                    c.out.writeInt(32 * MIB);
                    c.out.write(0x5a);
                    c.out.flush();
                    clients.add(c);
                }
                for (RawClient c : clients) c.close();
                int r = round;
                eventually("round " + r + ": every connection has ended", () -> s.connectionCount() == 0);
                eventually("round " + r + ": the server's sockets are closed", () -> openSockets() == sockets);
                eventually("round " + r + ": no connection thread is left", () -> nbdThreads() == threads);
                assertTrue(s.mappedBytes() <= NbdServer.SPARE_BUFFER_BYTES,
                        "round " + r + ": every payload buffer is unmapped but what the server keeps for the next clients: " + s.mappedBytes());
            }
            assertArrayEquals(new byte[512], ServerFixture.bytesAt(big, 0, 512), "nothing of the incomplete writes was written");
            try (RawClient c = RawClient.open(s.port(), "big")) {
                assertEquals(0, c.write(1, 0, new byte[4096]).error(), "and the server still serves");
            }
        }
    }

    @Test
    void aClientThatDoesNotFinishTheHandshakeIsDisconnected() throws Exception {
        MemDisk ram = MemDisk.of("ram0", 0, MIB);
        try (NbdServer s = NbdServer.builder().port(0).handshakeTimeout(java.time.Duration.ofMillis(200)).device("disk", new BlockBackend(ram.disk), false).start();
                RawClient silent = RawClient.connect(s.port());
                RawClient halfway = RawClient.negotiate(s.port());
                RawClient served = RawClient.open(s.port(), "disk")) {
            halfway.option(Nbd.OPT_LIST, new byte[0]);
            while (halfway.optReply().type() != Nbd.REP_ACK) {
                // the list
            }
            assertTrue(silent.closedByServer(), "a client that says nothing after the greeting");
            assertTrue(halfway.closedByServer(), "a client that keeps haggling and never picks an export");
            eventually("only the served client is left", () -> s.connectionCount() == 1);
            assertEquals(0, served.write(1, 0, new byte[4096]).error(), "a session that began in time is not cut");
        }
    }

    @Test
    void anIdleSessionIsDisconnectedWhenConfigured() throws Exception {
        MemDisk ram = MemDisk.of("ram0", 0, MIB);
        try (NbdServer s = NbdServer.builder().port(0).idleTimeout(java.time.Duration.ofMillis(300)).device("disk", new BlockBackend(ram.disk), false).start();
                RawClient c = RawClient.open(s.port(), "disk")) {
            assertEquals(0, c.write(1, 0, new byte[4096]).error());
            assertTrue(c.closedByServer());
            eventually("the session has ended", () -> s.connectionCount() == 0);
        }
    }

    @Test
    @Timeout(30)
    void halfALargeWriteToBrdAndThenSilenceIsIdleToo() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        Brd brd = new Brd(registry, new BrdConfig(1, 4096)); // 4 MiB
        try (NbdServer s = NbdServer.builder().backends(new BlockBackends(registry)).export("disk=ram0")
                .idleTimeout(java.time.Duration.ofMillis(300)).port(0).start()) {
            try (RawClient c = RawClient.open(s.port(), "disk")) {
                c.request(0, Nbd.CMD_WRITE, 1, 0, MIB, ServerFixture.pattern(100 << 10, 1)); // 100 KiB of 1 MiB
                assertTrue(c.closedByServer(), "a WRITE whose payload stops coming is idle");
            }
            eventually("the session has ended", () -> s.connectionCount() == 0);
            try (RawClient c = RawClient.open(s.port(), "disk")) {
                assertArrayEquals(new byte[100 << 10], c.read(2, 0, 100 << 10).data(), "nothing of it was written");
            }
        } finally {
            brd.destroy();
        }
    }

    @Test
    void theConnectionLimitIsAClearRefusal() throws Exception {
        MemDisk ram = MemDisk.of("ram0", 0, MIB);
        try (NbdServer s = NbdServer.builder().port(0).maxConnections(2).device("disk", new BlockBackend(ram.disk), false).start();
                RawClient first = RawClient.open(s.port(), "disk")) {
            try (RawClient second = RawClient.open(s.port(), "disk"); RawClient third = RawClient.negotiate(s.port())) {
                RawClient.OptReply go = third.go("disk");
                assertEquals(Nbd.REP_ERR_POLICY, go.type());
                assertEquals("the server has its limit of 2 clients connected; try again later", go.text());
                third.option(Nbd.OPT_LIST, new byte[0]);
                assertEquals(Nbd.REP_ERR_POLICY, third.optReply().type(), "no list either");
                third.option(Nbd.OPT_EXPORT_NAME, "disk".getBytes());
                assertTrue(third.closedByServer(), "NBD_OPT_EXPORT_NAME cannot be refused: hung up");
                assertEquals(0, second.write(1, 0, new byte[4096]).error(), "those within the limit carry on");
            }
            eventually("the second client has gone", () -> s.connectionCount() == 1);
            try (RawClient again = RawClient.open(s.port(), "disk")) {
                assertEquals(0, again.write(1, 4096, new byte[4096]).error(), "below the limit again, a new client is served");
            }
        }
    }

    @Test
    void clientsInTheHandshakeHoldNoPlatformThread() throws Exception {
        MemDisk ram = MemDisk.of("ram0", 0, MIB);
        try (NbdServer s = NbdServer.builder().port(0).maxConnections(1000).device("disk", new BlockBackend(ram.disk), false).start()) {
            long threads = nbdThreads();
            List<RawClient> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 500; i++) idle.add(RawClient.connect(s.port()));
                eventually("500 clients connected", () -> s.connectionCount() == 500);
                assertEquals(threads, nbdThreads(), "no platform thread per client waiting in the handshake");
            } finally {
                for (RawClient c : idle) c.close();
            }
        }
    }

    @Test
    void aBurstOfConnectsIsHeldByTheBacklog() throws Exception {
        MemDisk ram = MemDisk.of("ram0", 0, MIB);
        int burst = 1000;
        try (NbdServer s = NbdServer.builder().port(0).maxConnections(burst).device("disk", new BlockBackend(ram.disk), false).start();
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<RawClient>> connects = new ArrayList<>();
            for (int i = 0; i < burst; i++) connects.add(pool.submit(() -> RawClient.connect(s.port())));
            List<RawClient> greeted = new ArrayList<>();
            try {
                for (Future<RawClient> f : connects) greeted.add(f.get()); // each was greeted
                assertEquals(burst, greeted.size());
            } finally {
                for (RawClient c : greeted) c.close();
            }
        }
    }

    @Test
    void clientsThatDoNotReadTheirRepliesHoldBoundedMemoryAndGiveItBack() throws Exception {
        int clients = 16;
        int budget = 4 * MIB;
        MemDisk ram = MemDisk.of("ram0", 0, 4L * MIB);
        try (NbdServer s = NbdServer.builder().port(0).maxInflightBytes(budget).device("disk", new BlockBackend(ram.disk), false).start();
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            long rssBefore = rss();
            List<RawClient> deaf = new ArrayList<>();
            for (int i = 0; i < clients; i++) deaf.add(RawClient.open(s.port(), "disk"));
            // Each asks for 256 MiB of 1 MiB reads and reads none of it; its sender blocks once the
            // server stops reading its requests.
            for (RawClient c : deaf) {
                pool.submit(() -> {
                    for (int k = 0; k < 256; k++) c.request(0, Nbd.CMD_READ, k, (k % 4L) * MIB, MIB, null);
                    return null;
                });
            }
            AtomicLong peakMapped = new AtomicLong();
            AtomicLong peakRss = new AtomicLong();
            for (int i = 0; i < 200; i++) { // two seconds of sampling while the clients push
                peakMapped.accumulateAndGet(s.mappedBytes(), Math::max);
                peakRss.accumulateAndGet(rss(), Math::max);
                Thread.sleep(10);
            }
            long bound = (long) clients * 2 * budget; // in flight, plus what each pool keeps
            assertTrue(peakMapped.get() > 0, "the clients did get requests in");
            assertTrue(peakMapped.get() <= bound, "payload memory " + peakMapped + " <= " + bound);
            assertTrue(peakRss.get() - rssBefore <= bound + 256L * MIB, "RSS grew by " + (peakRss.get() - rssBefore));

            for (RawClient c : deaf) c.close();
            eventually("every deaf client's session has ended", () -> s.connectionCount() == 0);
            assertTrue(s.mappedBytes() <= NbdServer.SPARE_BUFFER_BYTES,
                    "their payload memory is unmapped when they close, but what the server keeps for the next clients: " + s.mappedBytes());
            long after = rss();
            assertTrue(after - rssBefore <= 128L * MIB, "RSS after they closed is back near where it was: " + (after - rssBefore) + " bytes more");
        }
    }

    /** Sockets this process has open. */
    static long openSockets() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed meanwhile
                }
            }).count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Platform threads of NBD servers (virtual threads are not listed). */
    static long nbdThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("nbd-")).count();
    }

    /** This process's resident set size, from /proc/self/status. */
    static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
