package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BusyPollTest {
    private static final long US = 1000;
    private ServerSocketChannel listener;
    private SocketChannel client, server;

    @BeforeEach
    void connect() throws Exception {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        client = SocketChannel.open(listener.getLocalAddress());
        server = listener.accept();
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        server.close();
        listener.close();
    }

    @Test
    void windowGrowsFromTenMicrosecondsWhileTheClientComesWithinTheLimit() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US);
        assertEquals(0, p.windowNanos());
        p.waited(30 * US, false);
        assertEquals(10 * US, p.windowNanos());
        p.waited(30 * US, false);
        assertEquals(20 * US, p.windowNanos());
        p.waited(30 * US, false);
        assertEquals(40 * US, p.windowNanos());
        p.waited(30 * US, false); // caught by the poll: no change
        assertEquals(40 * US, p.windowNanos());
        p.waited(45 * US, false);
        assertEquals(50 * US, p.windowNanos(), "never beyond the limit");
    }

    @Test
    void windowHalvesAfterEachPauseAndEndsBelowTenMicroseconds() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US);
        for (int i = 0; i < 4; i++) p.waited(49 * US, false);
        assertEquals(50 * US, p.windowNanos());
        p.waited(1_000 * US, false);
        assertEquals(25 * US, p.windowNanos(), "one late request does not end polling");
        p.waited(1_000 * US, false);
        assertEquals(12_500, p.windowNanos());
        p.waited(1_000 * US, false);
        assertEquals(0, p.windowNanos(), "a client that pauses costs no polling");
        p.waited(1_000 * US, false);
        assertEquals(0, p.windowNanos());
    }

    @Test
    void aPollThatLostItsCpuEndsPollingForTheCooldown() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US);
        for (int i = 0; i < 4; i++) p.waited(49 * US, false);
        assertEquals(50 * US, p.windowNanos());
        p.waited(30 * US, true);
        assertEquals(0, p.windowNanos(), "another thread wants the CPU");
        for (int i = 0; i < BusyPoll.COOLDOWN; i++) {
            p.waited(30 * US, false);
            assertEquals(0, p.windowNanos(), "wait " + i + " of the cooldown");
        }
        p.waited(30 * US, false);
        assertEquals(10 * US, p.windowNanos(), "then the window grows again");
    }

    @Test
    void eachPollInARowThatLostItsCpuDoublesTheCooldownAndACaughtOneResetsIt() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US);
        p.waited(30 * US, false);
        for (int cooldown = BusyPoll.COOLDOWN; cooldown <= 4 * BusyPoll.COOLDOWN; cooldown *= 2) {
            assertEquals(10 * US, p.windowNanos());
            p.waited(30 * US, true);
            assertEquals(cooldown, waitsUntilThePollComesBack(p), "a client on the poller's own CPU");
        }
        p.waited(5 * US, false); // caught by the 10 µs window
        p.waited(30 * US, true);
        assertEquals(BusyPoll.COOLDOWN, waitsUntilThePollComesBack(p));
        for (int i = 0; i < 20; i++) {
            waitsUntilThePollComesBack(p);
            p.waited(30 * US, true);
        }
        assertEquals(BusyPoll.MAX_COOLDOWN, waitsUntilThePollComesBack(p), "at most");
    }

    /** Short waits until the window opens again, the one that opens it not counted. */
    private static int waitsUntilThePollComesBack(BusyPoll p) {
        int waits = 0;
        while (true) {
            p.waited(30 * US, false);
            if (p.windowNanos() > 0) return waits;
            waits++;
        }
    }

    @Test
    void pollSaysWhetherTheClientsBytesCame() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US, () -> true);
        assertFalse(p.poll(), "no window yet: the reader blocks at once");
        p.waited(20 * US, false);
        assertFalse(p.poll(), "nothing sent: the poll gives up after its window");
        client.write(ByteBuffer.wrap(new byte[] {1}));
        long deadline = System.nanoTime() + 10_000_000_000L; // loopback delivers at once; a loaded machine may take a moment
        boolean came = false;
        while (!came && System.nanoTime() < deadline) came = p.poll();
        assertTrue(came);
    }

    @Test
    void pollsThatFindBytesAtOnceGiveWayToPlainReadsUntilAReadWaits() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US, () -> true);
        p.waited(20 * US, false);
        client.write(ByteBuffer.wrap(new byte[] {1}));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (server.socket().getInputStream().available() == 0) assertTrue(System.nanoTime() < deadline, "the byte never came");
        for (int i = 0; i < BusyPoll.AT_ONCE; i++) {
            assertFalse(p.skipping(), "after " + i + " polls that found bytes at once");
            assertTrue(p.poll());
            p.waited(2 * US, false);
        }
        assertTrue(p.skipping());
        assertFalse(p.poll(), "no poll: the read that follows goes straight to the socket");
        p.waited(2 * US, false);
        assertTrue(p.skipping(), "a read that found its bytes keeps the reads going without polls");
        assertFalse(p.poll());
        p.waited(30 * US, false);
        assertFalse(p.skipping(), "a read that waited for the client brings the poll back");
        assertTrue(p.poll());
    }

    @Test
    void noPollWhileEveryCpuIsBusy() throws Exception {
        BusyPoll p = new BusyPoll(server, 50 * US, () -> false);
        p.waited(20 * US, false);
        client.write(ByteBuffer.wrap(new byte[] {1}));
        assertFalse(p.poll(), "the bytes are there, but polling would take a CPU another thread wants");
        assertEquals(10 * US, p.windowNanos(), "the window is kept for when a CPU is free");
    }

    @Test
    void limitZeroNeverPolls() throws Exception {
        BusyPoll p = new BusyPoll(server, 0);
        client.write(ByteBuffer.wrap(new byte[] {1}));
        p.waited(5 * US, false);
        assertEquals(0, p.windowNanos());
        assertFalse(p.poll());
    }
}
