package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transmission replies, as nbdkit's protocol.c sends them: a simple reply, or with structured
 * replies negotiated, a chunk for read data and for errors (so the message reaches the client).
 * Each reply is written whole. A client that is gone is not the request's failure: the first
 * reply that cannot be written closes the socket, and later ones are dropped.
 *
 * <p>Replies made by the connection's request reader (every request its backend completes at
 * once) are corked, as nbdkit sends with MSG_MORE: they wait until the reader is about to block
 * (for the next bytes from the socket, or for a permit) and then go out together in one
 * gathering write, so that a client with many requests in flight costs one system call per
 * batch, not one per reply; a client with one request in flight gets its reply at once. Replies
 * made by any other thread (a request that waited for its backend, FLUSH, TRIM, a device ending
 * bios on its own thread) go to the connection's {@link Sender}, which writes them in turn; so do
 * the reader's replies to READs of {@link #HANDED_OVER} bytes or more to a client on another host
 * while the CPUs are all busy (the sender says why). Replies may thus leave in another order than
 * their requests finished in, as NBD allows: the client matches them by handle.
 */
final class Replies {
    private static final Logger LOG = LoggerFactory.getLogger(Replies.class);
    /** A batch goes out when it holds this many buffers (IOV_MAX is 1024) or payload bytes. */
    static final int MAX_CORKED_BUFFERS = 128, MAX_CORKED_BYTES = 256 << 10;
    /**
     * The reply to a READ of this many bytes or more goes to the {@link Sender} even when the
     * reader made it, for a client on another host while more threads run than there are CPUs:
     * the hand-off (a wake-up) is small beside writing that much (see {@link Sender}).
     */
    static final long HANDED_OVER = 256 << 10;

    private final Wire wire;
    private final boolean structured;
    private volatile boolean failed;
    private volatile Thread reader;
    // The batch: only the reader touches it.
    private final List<ByteBuffer> corked = new ArrayList<>();
    private final List<AutoCloseable> releases = new ArrayList<>();
    private long corkedBytes;
    private final Sender sender;
    private final BooleanSupplier handOver;

    /** @param senders the platform threads a {@link Sender} is taken from */
    Replies(Wire wire, boolean structured, Executor senders) {
        this(wire, structured, senders, wire.local ? () -> false : () -> !CpuLoad.idle());
    }

    /** @param handOver whether a large READ reply the reader makes goes to the sender now */
    Replies(Wire wire, boolean structured, Executor senders, BooleanSupplier handOver) {
        this.handOver = handOver;
        this.wire = wire;
        this.structured = structured;
        this.sender = new Sender(senders, this::write);
    }

    /** From now on, replies made by the calling thread (the request reader) are corked until {@link #flush}. */
    void cork() {
        reader = Thread.currentThread();
    }

    /** Success; {@code release} (the request's permit, which owns {@code data}) is closed once the reply is out or dropped. */
    void ok(Request r, ByteBuffer data, AutoCloseable release) {
        send(r, 0, null, data, release);
    }

    void error(Request r, int error, String message) {
        error(r, error, message, null);
    }

    /** The protocol's error with a sentence for the client; {@code release} as for {@link #ok}. */
    void error(Request r, int error, String message, AutoCloseable release) {
        send(r, error, message, null, release);
    }

    private void send(Request r, int error, String message, ByteBuffer data, AutoCloseable release) {
        if (error != 0) LOG.debug("{}: {} handle {} failed with {}: {}", wire.peer, r.command(), r.handle(), error, message);
        if (failed) {
            close(release);
            return;
        }
        ByteBuffer head = header(r, error, message, data == null ? 0 : data.remaining());
        boolean payload = error == 0 && data != null && data.hasRemaining();
        if (payload && handedOver(data.remaining())) hand(head, List.of(data), release);
        else enqueue(head, payload ? data : null, release);
    }

    /** Whether a reply carrying {@code bytes} of data goes to the sender though the reader made it. */
    private boolean handedOver(long bytes) {
        return bytes >= HANDED_OVER && handOver.getAsBoolean();
    }

    /**
     * A reply the caller made whole ({@code chunks}: structured reply chunks, the last one DONE,
     * as {@link BlockStatus} makes them); {@code release} as for {@link #ok}.
     */
    void whole(ByteBuffer chunks, AutoCloseable release) {
        if (failed) {
            close(release);
            return;
        }
        enqueue(chunks, null, release);
    }

    /** Corks a reply made on the reader, or hands it to the sender. */
    private void enqueue(ByteBuffer head, ByteBuffer data, AutoCloseable release) {
        boolean payload = data != null;
        if (Thread.currentThread() == reader) {
            corked.add(head);
            // Counted too: a BLOCK_STATUS reply is all head (up to 32 KiB), and 128 of them
            // corked for a client that does not read would hold 4 MiB of heap per connection.
            corkedBytes += head.remaining();
            if (payload) {
                corked.add(data);
                corkedBytes += data.remaining();
            }
            if (release != null) releases.add(release);
            if (corked.size() >= MAX_CORKED_BUFFERS || corkedBytes >= MAX_CORKED_BYTES) flush();
            return;
        }
        // Not on the reader: the sender writes it, so that no other thread (a virtual one above
        // all, see BlockingMode) ever blocks on the socket.
        hand(head, payload ? List.of(data) : List.of(), release);
    }

    /** Gives a reply to the sender; written here when the sender takes no more (the server is stopping). */
    private void hand(ByteBuffer head, List<ByteBuffer> data, AutoCloseable release) {
        Sender.Out out = new Sender.Out(head, data, release);
        if (!sender.offer(out)) write(out);
    }

    /**
     * Success of a READ whose data is {@code pieces} ({@code length} bytes in all), the backend's own
     * memory ({@link Backend#pinForRead}); {@code release} unpins it once the reply is out. Only the
     * reader calls it, so the reply is corked like the others, or handed over when it is large.
     */
    void okInPlace(Request r, List<ByteBuffer> pieces, long length, AutoCloseable release) {
        if (Thread.currentThread() != reader) throw new IllegalStateException("a reply in place is the reader's");
        if (failed) {
            close(release);
            return;
        }
        if (handedOver(length)) {
            hand(header(r, 0, null, length), List.copyOf(pieces), release); // the caller reuses its list
            return;
        }
        corked.add(header(r, 0, null, length));
        for (int i = 0; i < pieces.size(); i++) corked.add(pieces.get(i)); // addAll would copy them into an array first
        corkedBytes += length;
        releases.add(release);
        if (corked.size() >= MAX_CORKED_BUFFERS || corkedBytes >= MAX_CORKED_BYTES) flush();
    }

    /** Writes one reply at once (unless the connection has failed), then lets its release go. */
    private void write(Sender.Out out) {
        write(List.of(out));
    }

    /** Writes replies in one gathering write (unless the connection has failed), then lets their releases go. */
    private void write(List<Sender.Out> batch) {
        try {
            if (failed) return;
            List<ByteBuffer> buffers = new ArrayList<>(2 * batch.size());
            for (Sender.Out out : batch) {
                buffers.add(out.head());
                buffers.addAll(out.data());
            }
            wire.send(buffers.toArray(ByteBuffer[]::new));
        } catch (IOException e) {
            failed(e);
        } finally {
            for (Sender.Out out : batch) close(out.release());
        }
    }

    /** No more replies will be made: the sender's thread, if one was started, ends. Call it once every permit is back. */
    void close() {
        sender.close();
    }

    /** Bytes corked now, counted afresh (for tests). */
    long corkedNow() {
        long n = 0;
        for (ByteBuffer b : corked) n += b.remaining();
        return n;
    }

        /** Sends the reader's corked replies, in one gathering write; only the reader calls it. */
    void flush() {
        if (corked.isEmpty()) return;
        try {
            if (!failed) wire.send(corked.toArray(ByteBuffer[]::new));
        } catch (IOException e) {
            failed(e);
        } finally {
            corked.clear();
            corkedBytes = 0;
            for (AutoCloseable a : releases) close(a);
            releases.clear();
        }
    }

    private void failed(IOException e) {
        failed = true;
        LOG.debug("{}: reply not sent: {}", wire.peer, e.toString());
        wire.close();
    }

    private static void close(AutoCloseable release) {
        if (release == null) return;
        try {
            release.close();
        } catch (Exception e) {
            LOG.error("releasing {} failed", release, e);
        }
    }

    /**
     * How much of the UTF-8 bytes {@code m} an error chunk carries: all of them, or as many whole
     * characters as the spec's 4096-byte string limit holds (never a character cut in two, which
     * would make the message invalid UTF-8).
     */
    static int stringLength(byte[] m) {
        if (m.length <= MAX_STRING) return m.length;
        int n = MAX_STRING;
        while ((m[n] & 0xc0) == 0x80) n--; // m[n], the first byte left out, continues a character: leave that one out whole
        return n;
    }

    /** The reply's header: all of it but a READ's data. */
    private ByteBuffer header(Request r, int error, String message, long length) {
        if (!structured) return ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(r.handle()).flip();
        if (error != 0) {
            byte[] m = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
            int ml = stringLength(m);
            return ByteBuffer.allocate(20 + 6 + ml).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_ERROR).putLong(r.handle()).putInt(6 + ml).putInt(error).putShort((short) ml).put(m, 0, ml).flip();
        } else if (length > 0) {
            return ByteBuffer.allocate(28).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_OFFSET_DATA).putLong(r.handle()).putInt((int) (8 + length)).putLong(r.offset()).flip();
        } else if (r.type() == CMD_READ) {
            return ByteBuffer.allocate(20).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_NONE).putLong(r.handle()).putInt(0).flip();
        }
        return ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.handle()).flip();
    }
}
