package org.dmstack.nbd.driver;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** Whole reads and writes on a blocking channel: NBD messages are never useful in part. */
final class Wire {
    private Wire() {}

    /** Fills {@code buffer} from the channel. @throws EOFException when the server closes first */
    static ByteBuffer readFully(SocketChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (ch.read(buffer) < 0) throw new EOFException("the server closed the connection");
        }
        return buffer.flip();
    }

    static ByteBuffer read(SocketChannel ch, int bytes) throws IOException {
        return readFully(ch, ByteBuffer.allocate(bytes));
    }

    /** Reads and throws away {@code bytes} bytes. */
    static void skip(SocketChannel ch, long bytes) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(bytes, 64 << 10));
        while (bytes > 0) {
            scratch.clear().limit((int) Math.min(bytes, scratch.capacity()));
            readFully(ch, scratch);
            bytes -= scratch.limit();
        }
    }

    static void writeFully(SocketChannel ch, ByteBuffer... buffers) throws IOException {
        long left = 0;
        for (ByteBuffer b : buffers) left += b.remaining();
        while (left > 0) left -= ch.write(buffers);
    }
}
