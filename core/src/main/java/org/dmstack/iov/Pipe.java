package org.dmstack.iov;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayDeque;
import org.dmstack.units.Units;

/**
 * A pipe as splice uses it: a bounded ring of page buffers. A PIPE {@link IovIter} fills it;
 * whoever reads the pipe drains it to a channel (the splice destination) or into an array.
 */
public final class Pipe {
    /** Linux's default pipe size: 16 buffers. */
    public static final int DEFAULT_SLOTS = 16;

    static final class Buffer {
        final MemorySegment page = MemorySegment.ofArray(new byte[Units.PAGE_SIZE]);
        int offset; // first unread byte
        int length; // bytes filled, from offset 0
    }

    private final int slots;
    private final ArrayDeque<Buffer> ring = new ArrayDeque<>();

    public Pipe() {
        this(DEFAULT_SLOTS);
    }

    public Pipe(int slots) {
        if (slots <= 0) throw new IllegalArgumentException("a pipe needs at least one buffer");
        this.slots = slots;
    }

    /** Bytes that can be written before the pipe is full. */
    public synchronized long freeSpace() {
        long free = (long) (slots - ring.size()) * Units.PAGE_SIZE;
        Buffer last = ring.peekLast();
        if (last != null) free += Units.PAGE_SIZE - last.length;
        return free;
    }

    /** Bytes written and not yet read. */
    public synchronized long available() {
        long n = 0;
        for (Buffer b : ring) n += b.length - b.offset;
        return n;
    }

    /** Buffers in use. */
    public synchronized int buffers() {
        return ring.size();
    }

    /** Reads up to {@code dst.length} bytes; returns how many. */
    public synchronized int read(byte[] dst) {
        int done = 0;
        while (done < dst.length && !ring.isEmpty()) {
            Buffer b = ring.peekFirst();
            int n = Math.min(dst.length - done, b.length - b.offset);
            MemorySegment.copy(b.page, b.offset, MemorySegment.ofArray(dst), done, n);
            b.offset += n;
            done += n;
            if (b.offset == b.length) ring.pollFirst();
        }
        return done;
    }

    /** Writes everything buffered to {@code sink} and frees the buffers (the splice out). */
    public synchronized long drainTo(WritableByteChannel sink) throws IOException {
        long done = 0;
        while (!ring.isEmpty()) {
            Buffer b = ring.pollFirst();
            var bb = b.page.asSlice(b.offset, b.length - b.offset).asByteBuffer();
            while (bb.hasRemaining()) done += sink.write(bb);
        }
        return done;
    }

    /** Room in the last buffer, or a new buffer; null when the pipe is full. */
    synchronized Buffer tailWithRoom() {
        Buffer last = ring.peekLast();
        if (last != null && last.length < Units.PAGE_SIZE) return last;
        if (ring.size() == slots) return null;
        Buffer b = new Buffer();
        ring.addLast(b);
        return b;
    }

    /** Takes back the last {@code bytes} written (pipe_revert). */
    synchronized void truncate(long bytes) {
        while (bytes > 0) {
            Buffer last = ring.peekLast();
            if (last == null) throw new IllegalArgumentException("revert past the start of the pipe");
            long n = Math.min(bytes, last.length - last.offset);
            last.length -= (int) n;
            bytes -= n;
            if (last.length == last.offset) ring.pollLast();
        }
    }

    /** Drops an empty tail buffer that a short copy left behind. */
    synchronized void trimEmptyTail() {
        Buffer last = ring.peekLast();
        if (last != null && last.length == 0) ring.pollLast();
    }
}
