package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.CMD_READ;
import static org.dmstack.nbd.protocol.Nbd.CMD_WRITE;
import static org.dmstack.nbd.protocol.Nbd.REPLY_FLAG_DONE;
import static org.dmstack.nbd.protocol.Nbd.REPLY_TYPE_OFFSET_DATA;
import static org.dmstack.nbd.protocol.Nbd.SIMPLE_REPLY_MAGIC;
import static org.dmstack.nbd.protocol.Nbd.STRUCTURED_REPLY_MAGIC;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the request reader corks before it writes: bounded in bytes, whatever the replies are made
 * of; and what it hands to the connection's sender instead: the replies to large READs while the
 * CPUs are all busy.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RepliesTest {
    /** The server's pool of platform threads, as far as a Sender needs it; daemons, so a failed test leaves none behind. */
    private static final Executor senders = task -> Thread.ofPlatform().daemon().name("sender").start(task);

    @Test
    void largeRepliesWithoutPayloadAreCorkedWithinTheByteBound() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel server = listener.accept()) {
            Thread drain = Thread.ofVirtual().start(() -> {
                ByteBuffer b = ByteBuffer.allocate(1 << 20);
                try {
                    while (client.read(b.clear()) >= 0) {
                        // the client takes everything
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            Replies replies = new Replies(new Wire(server), true, Runnable::run);
            replies.cork();
            long most = 0;
            for (int i = 0; i < 200; i++) {
                replies.whole(ByteBuffer.allocate(32 << 10), null); // a BLOCK_STATUS reply of 4096 descriptors is all head
                most = Math.max(most, replies.corkedNow());
            }
            assertTrue(most < Replies.MAX_CORKED_BYTES, "at most " + Replies.MAX_CORKED_BYTES + " bytes corked, not "
                    + Replies.MAX_CORKED_BUFFERS + " such replies: " + most);
            client.close();
            drain.join();
        }
    }

    @Test
    void aLargeReadIsAnsweredByTheSenderWhileTheCpusAreBusyAndWritesSmallReadsOrIdleCpusByTheReader() throws Exception {
        for (boolean cpuIdle : new boolean[] {false, true}) {
            try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                    SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                    SocketChannel server = listener.accept()) {
                Replies replies = new Replies(new Wire(server), true, senders, () -> !cpuIdle); // as for a client on another host
                replies.cork();
                Thread reader = Thread.currentThread();

                AtomicReference<Thread> smallReleasedOn = new AtomicReference<>();
                replies.okInPlace(new Request(0, CMD_READ, 1, 0, 4096), List.of(ByteBuffer.allocate(4096)), 4096,
                        () -> smallReleasedOn.set(Thread.currentThread()));
                assertEquals(28 + 4096, replies.corkedNow(), "a 4 KiB READ's reply is corked, the CPUs busy or not");
                replies.flush();
                assertEquals(reader, smallReleasedOn.get());
                readFully(client, 28 + 4096);

                int length = (int) Replies.HANDED_OVER;
                AtomicReference<Thread> writeReleasedOn = new AtomicReference<>();
                replies.ok(new Request(0, CMD_WRITE, 4, 0, length), null, () -> writeReleasedOn.set(Thread.currentThread()));
                assertEquals(16, replies.corkedNow(), "a large WRITE's 16-byte reply is corked, the CPUs busy or not");
                replies.flush();
                assertEquals(reader, writeReleasedOn.get());
                ByteBuffer writeReply = readFully(client, 16);
                assertEquals(SIMPLE_REPLY_MAGIC, writeReply.getInt());
                assertEquals(0, writeReply.getInt());
                assertEquals(4, writeReply.getLong());

                CompletableFuture<Thread> largeReleasedOn = new CompletableFuture<>();
                replies.okInPlace(new Request(0, CMD_READ, 2, 0, length), List.of(ByteBuffer.allocate(length)), length,
                        () -> largeReleasedOn.complete(Thread.currentThread()));
                readFully(client, 28 + length);
                Thread writer = largeReleasedOn.get(10, TimeUnit.SECONDS);
                if (cpuIdle) assertEquals(reader, writer, "with a CPU to spare the reader writes it");
                else assertNotEquals(reader, writer, "with the CPUs busy the sender writes it");

                CompletableFuture<Thread> copiedReleasedOn = new CompletableFuture<>(); // a READ not answered in place
                replies.ok(new Request(0, CMD_READ, 3, 0, length), ByteBuffer.allocate(length), () -> copiedReleasedOn.complete(Thread.currentThread()));
                readFully(client, 28 + length);
                writer = copiedReleasedOn.get(10, TimeUnit.SECONDS);
                if (cpuIdle) assertEquals(reader, writer, "a copied READ alike");
                else assertNotEquals(reader, writer, "a copied READ alike");
                replies.close();
            }
        }
    }

    @Test
    void aLargeReadHandedOverLeavesTheReaderFreeAndGoesOutWholeThoughTheReaderReusesItsListOfPieces() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open()) {
            // Socket buffers far smaller than the reply: written on the reader, it would block
            // the reader until the client reads, which this client only does once okInPlace returned.
            client.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            client.connect(listener.getLocalAddress());
            try (SocketChannel server = listener.accept()) {
                server.setOption(StandardSocketOptions.SO_SNDBUF, 4096);
                Replies replies = new Replies(new Wire(server), true, senders, () -> true); // another host's client, the CPUs busy
                replies.cork();
                int length = (int) Replies.HANDED_OVER;
                byte[] expected = new byte[length];
                List<ByteBuffer> pieces = new ArrayList<>();
                for (int page = 0; page < length / 4096; page++) {
                    ByteBuffer piece = ByteBuffer.allocateDirect(4096);
                    for (int i = 0; i < 4096; i++) {
                        expected[page * 4096 + i] = (byte) (page * 31 + i);
                        piece.put((byte) (page * 31 + i));
                    }
                    pieces.add(piece.flip());
                }
                CountDownLatch unpinned = new CountDownLatch(1);
                replies.okInPlace(new Request(0, CMD_READ, 9, 1 << 20, length), pieces, length, unpinned::countDown);
                pieces.clear(); // as Transmission does, at once
                assertEquals(0, replies.corkedNow(), "a large READ's reply is not corked");

                ByteBuffer head = readFully(client, 28);
                assertEquals(STRUCTURED_REPLY_MAGIC, head.getInt());
                assertEquals(REPLY_FLAG_DONE, head.getShort());
                assertEquals(REPLY_TYPE_OFFSET_DATA, head.getShort());
                assertEquals(9, head.getLong());
                assertEquals(8 + length, head.getInt());
                assertEquals(1 << 20, head.getLong());
                assertArrayEquals(expected, readFully(client, length).array());
                assertTrue(unpinned.await(10, TimeUnit.SECONDS), "the pages are unpinned once the reply is out");
                replies.close();
            }
        }
    }

    @Test
    void aLocalClientsLargeReadIsWrittenByTheReaderHowEverBusyTheCpus() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel server = listener.accept()) {
            Wire wire = new Wire(server);
            assertTrue(wire.local, "a loopback client is on this host");
            Replies replies = new Replies(wire, true, senders); // as Transmission makes them
            replies.cork();
            Thread reader = Thread.currentThread();
            // Busy CPUs, for as long as the reply takes: without them the reader writes it anyway.
            List<Thread> spinners = new ArrayList<>();
            for (int i = 0; i < 2 * CpuLoad.CPUS + 1; i++) spinners.add(Thread.ofPlatform().daemon().start(() -> {
                while (!Thread.currentThread().isInterrupted()) Thread.onSpinWait();
            }));
            try {
                Thread.sleep(20); // past CpuLoad's 10 ms between looks
                int length = (int) Replies.HANDED_OVER;
                CompletableFuture<Thread> releasedOn = new CompletableFuture<>();
                Thread drain = Thread.ofPlatform().start(() -> {
                    try {
                        readFully(client, 28 + length);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                // As large as a batch: corked, then written at once by the reader, which the client drains.
                replies.ok(new Request(0, CMD_READ, 5, 0, length), ByteBuffer.allocate(length), () -> releasedOn.complete(Thread.currentThread()));
                replies.flush();
                drain.join();
                assertEquals(reader, releasedOn.get(10, TimeUnit.SECONDS), "corked and written by the reader: a local client is never handed over");
            } finally {
                spinners.forEach(Thread::interrupt);
            }
            replies.close();
        }
    }

    private static ByteBuffer readFully(SocketChannel channel, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) throw new IOException("end of stream with " + b.remaining() + " bytes to come");
        }
        return b.flip();
    }
}
