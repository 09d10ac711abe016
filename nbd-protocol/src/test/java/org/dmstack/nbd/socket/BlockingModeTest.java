package org.dmstack.nbd.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlockingModeTest {
    private static final int O_NONBLOCK = 04000;

    @Test
    void theSocketAVirtualThreadMadeNonBlockingIsMadeBlockingAgainAndNothingElse() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel served = listener.accept()) {
            client.write(ByteBuffer.wrap(new byte[] {1}));
            Thread reader = Thread.ofVirtual().start(() -> readOne(served)); // the JDK makes the socket non-blocking
            reader.join();
            Map<Integer, Integer> before = socketFlags();

            assertTrue(BlockingMode.restore(served));

            Map<Integer, Integer> after = socketFlags();
            int changed = 0;
            for (var e : before.entrySet()) {
                int now = after.getOrDefault(e.getKey(), e.getValue());
                if (now != e.getValue()) {
                    changed++;
                    assertEquals(e.getValue() & ~O_NONBLOCK, now, "only O_NONBLOCK cleared on fd " + e.getKey());
                    assertTrue((e.getValue() & O_NONBLOCK) != 0);
                }
            }
            assertEquals(1, changed, "one socket changed: the served one");
            assertTrue(BlockingMode.restore(served), "already blocking: nothing to do");

            // A platform thread now waits in the kernel, and closing the channel still wakes it.
            client.write(ByteBuffer.wrap(new byte[] {2}));
            assertEquals(2, readOne(served));
            CompletableFuture<Throwable> blocked = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try {
                    readOne(served);
                    blocked.complete(null);
                } catch (Throwable t) {
                    blocked.complete(t);
                }
            });
            Thread.sleep(100); // most likely blocked by now; closed before its read, it fails at once
            served.close();
            assertInstanceOf(ClosedChannelException.class, blocked.get(10, TimeUnit.SECONDS).getCause());
        }
    }

    @Test
    void aClosedChannelIsLeftAlone() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress())) {
            SocketChannel served = listener.accept();
            served.close();
            Map<Integer, Integer> before = socketFlags();
            assertThrows(ClosedChannelException.class, () -> BlockingMode.restore(served));
            assertEquals(before, socketFlags());
        }
    }

    private static int readOne(SocketChannel ch) {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            if (ch.read(b) != 1) throw new IOException("end of stream");
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return b.get(0);
    }

    /** The file status flags of this process's sockets, by descriptor (/proc/self/fdinfo, octal). */
    private static Map<Integer, Integer> socketFlags() throws IOException {
        Map<Integer, Integer> flags = new HashMap<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : fds) {
                try {
                    if (!Files.readSymbolicLink(p).toString().startsWith("socket:")) continue;
                    for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo", p.getFileName().toString()))) {
                        if (line.startsWith("flags:")) flags.put(Integer.parseInt(p.getFileName().toString()), Integer.parseInt(line.substring(6).trim(), 8));
                    }
                } catch (IOException closedMeanwhile) {
                    // not one of ours
                }
            }
        }
        return flags;
    }
}
