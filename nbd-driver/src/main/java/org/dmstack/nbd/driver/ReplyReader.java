package org.dmstack.nbd.driver;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * What a connection's receiver reads, buffered: a reply's headers come out of one read(2) with
 * whatever else the socket holds (the next replies, at a queue depth above 1), where reading each
 * field as it is needed took four system calls for a structured READ reply (magic, chunk header,
 * offset, data). A payload is copied out of what is buffered and the rest read straight into its
 * own memory, so a large one costs no extra copy.
 */
final class ReplyReader {
    /**
     * Room for any header and for an error chunk's message (at most MAX_STRING and its fields),
     * and for a reply or two of 4 KiB; no more, since a large payload's first bytes, read along
     * with its header, are copied once more out of here.
     */
    static final int CAPACITY = 8 << 10;

    private final SocketChannel ch;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(CAPACITY).flip(); // read, not yet taken: position to limit

    ReplyReader(SocketChannel ch) {
        this.ch = ch;
    }

    /** Makes the next {@code n} bytes ({@code n <= CAPACITY}) available to the getters. @throws EOFException when the server closes first */
    ReplyReader need(int n) throws IOException {
        if (buffer.remaining() >= n) return this;
        buffer.compact();
        try {
            while (buffer.position() < n) {
                if (ch.read(buffer) < 0) throw new EOFException("the server closed the connection");
            }
        } finally {
            buffer.flip();
        }
        return this;
    }

    int getInt() {
        return buffer.getInt();
    }

    long getLong() {
        return buffer.getLong();
    }

    short getShort() {
        return buffer.getShort();
    }

    /** The next {@code n} bytes ({@code n <= CAPACITY}) in a buffer of their own. */
    ByteBuffer take(int n) throws IOException {
        need(n);
        ByteBuffer copy = ByteBuffer.allocate(n).put(buffer.slice(buffer.position(), n)).flip();
        buffer.position(buffer.position() + n);
        return copy;
    }

    /**
     * Fills {@code into} (its position moves to its limit): what is buffered first, then straight
     * from the socket. @throws EOFException when the server closes first
     */
    void readFully(ByteBuffer into) throws IOException {
        int buffered = Math.min(buffer.remaining(), into.remaining());
        into.put(into.position(), buffer, buffer.position(), buffered).position(into.position() + buffered);
        buffer.position(buffer.position() + buffered);
        while (into.hasRemaining()) {
            if (ch.read(into) < 0) throw new EOFException("the server closed the connection");
        }
    }
}
