package org.dmstack.launcher;

import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * The control socket's wire format, one place for both ends. Every message is a frame: a type
 * byte, a 4-byte big-endian length, then that many bytes. The client sends one {@link #COMMANDS}
 * frame (UTF-8 command lines); the server answers with {@link #OUT} and {@link #ERR} frames as the
 * commands print, then one {@link #EXIT} frame (a 4-byte status: 0, or 1 when a command failed),
 * and closes.
 */
final class ControlFrames {
    static final byte COMMANDS = 'C';
    static final byte OUT = 'O';
    static final byte ERR = 'E';
    static final byte EXIT = 'X';
    /** Command text beyond this is refused: a request is a few command lines, not a data stream. */
    static final int MAX_COMMANDS = 1 << 20;

    record Frame(byte type, byte[] data) {
        int status() {
            return ByteBuffer.wrap(data).getInt();
        }
    }

    private ControlFrames() {}

    static void write(WritableByteChannel ch, byte type, byte[] data, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(5 + len).put(type).putInt(len).put(data, off, len).flip();
        // Frames from several threads of one session (Gogo pipelines) must not interleave.
        synchronized (ch) {
            while (b.hasRemaining()) ch.write(b);
        }
    }

    static void writeExit(WritableByteChannel ch, int status) throws IOException {
        write(ch, EXIT, ByteBuffer.allocate(4).putInt(status).array(), 0, 4);
    }

    /** The next frame, or null at the end of the stream. */
    static Frame read(ReadableByteChannel ch, int maxLength) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(5);
        if (!fill(ch, header, true)) return null;
        header.flip();
        byte type = header.get();
        int length = header.getInt();
        if (length < 0 || length > maxLength) throw new IOException("frame of " + length + " bytes (at most " + maxLength + ")");
        ByteBuffer data = ByteBuffer.allocate(length);
        fill(ch, data, false);
        return new Frame(type, data.array());
    }

    private static boolean fill(ReadableByteChannel ch, ByteBuffer b, boolean eofAllowed) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                if (eofAllowed && b.position() == 0) return false;
                throw new EOFException("the connection closed in the middle of a frame");
            }
        }
        return true;
    }

    /** An output stream whose every write goes out as one frame of {@code type}. */
    static OutputStream stream(WritableByteChannel ch, byte type) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] data, int off, int len) throws IOException {
                if (len > 0) ControlFrames.write(ch, type, data, off, len);
            }
        };
    }
}
