package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReplyReaderTest {
    @Test
    void headersComeFromTheBufferAndPayloadsWhole() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel server = listener.accept()) {
            byte[] small = new byte[100], large = new byte[3 * ReplyReader.CAPACITY + 17];
            new Random(1).nextBytes(small);
            new Random(2).nextBytes(large);
            // Two messages at once: a header and a small payload, then a header and a payload larger than the buffer.
            ByteBuffer sent = ByteBuffer.allocate(2 * 12 + small.length + large.length)
                    .putInt(0x67446698).putLong(7).put(small).putInt(0x67446698).putLong(8).put(large).flip();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    Wire.writeFully(server, sent);
                    server.shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            ReplyReader in = new ReplyReader(client);

            assertEquals(0x67446698, in.need(12).getInt());
            assertEquals(7, in.getLong());
            ByteBuffer first = ByteBuffer.allocate(small.length);
            in.readFully(first);
            assertArrayEquals(small, first.array());
            assertEquals(0x67446698, in.need(12).getInt());
            assertEquals(8, in.getLong());
            ByteBuffer second = ByteBuffer.allocateDirect(large.length);
            in.readFully(second);
            byte[] got = new byte[large.length];
            second.flip().get(got);
            assertArrayEquals(large, got, "what the buffer held, then the rest straight from the socket");

            writer.join();
            EOFException eof = assertThrows(EOFException.class, () -> in.need(4));
            assertEquals("the server closed the connection", eof.getMessage());
        }
    }

    @Test
    void takeCopiesOutWhatItReturns() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel server = listener.accept()) {
            Wire.writeFully(server, ByteBuffer.allocate(10).putInt(5).putShort((short) 3).putInt(9).flip());
            ReplyReader in = new ReplyReader(client);
            ByteBuffer taken = in.take(6);
            assertEquals(9, in.need(4).getInt(), "taken bytes are consumed");
            assertEquals(5, taken.getInt());
            assertEquals(3, taken.getShort());
            assertEquals(0, taken.remaining());
        }
    }
}
