package org.dmstack.nbd.server;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;
import org.dmstack.nbd.socket.BlockingMode;
import org.dmstack.nbd.socket.LocalPacing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's socket, as nbdkit's connections.c keeps it: whole reads, whole writes, skipping
 * and closing. Writes are serialized, so that replies written by several threads never
 * interleave on the wire; reads belong to one thread at a time (the handshake, then the
 * request reader).
 *
 * <p>In transmission, reads go through a read-ahead buffer: one read(2) takes in whatever the
 * client has sent, often several requests (headers and small payloads) at once. A payload too
 * large for it is read straight into its own buffer after what was already read ahead.
 */
final class Wire {
    private static final Logger LOG = LoggerFactory.getLogger(Wire.class);

    private final SocketChannel channel;
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Who the client is, for the log. */
    final String peer;
    /** Whether the client is on this host ({@link LocalPacing#onThisHost}). */
    final boolean local;
    private ByteBuffer readAhead; // bytes read but not yet taken, between position and limit
    private Runnable beforeBlocking;
    private BusyPoll busyPoll;
    /** When the write under way began (System.nanoTime), 0 when none is: how long the client has left a reply untaken. */
    private volatile long sendingSince;

    Wire(SocketChannel channel) {
        this.channel = channel;
        String p;
        boolean l;
        try {
            p = String.valueOf(channel.getRemoteAddress());
            l = LocalPacing.onThisHost(channel.getLocalAddress(), channel.getRemoteAddress());
        } catch (IOException e) {
            p = "?";
            l = false;
        }
        this.peer = p;
        this.local = l;
    }

    /** Writes all of {@code buffers}, as one message no other writer can split. */
    void send(ByteBuffer... buffers) throws IOException {
        sendLock.lock();
        try {
            sendingSince = System.nanoTime();
            long left = 0;
            for (ByteBuffer b : buffers) left += b.remaining();
            while (left > 0) left -= channel.write(buffers);
        } finally {
            sendingSince = 0;
            sendLock.unlock();
        }
    }

    /**
     * How long the write under way has waited for the client to take it, as of {@code now}
     * (System.nanoTime); 0 when none is under way.
     */
    long sendingFor(long now) {
        long since = sendingSince;
        return since == 0 ? 0 : now - since;
    }

    /**
     * From now on only platform threads use the socket: it is made blocking again, so that
     * waiting for the client is one system call ({@link BlockingMode}).
     */
    void platformThreadsOnly() {
        try {
            if (!BlockingMode.restore(channel)) LOG.debug("{}: socket left non-blocking (its descriptor was not found)", peer);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: socket left non-blocking: {}", peer, e.toString());
        }
    }

    /**
     * Takes pacing off the socket if the client is on this host ({@link LocalPacing}): called as
     * transmission begins, before the first large reply.
     */
    void unpaceIfLocal() {
        if (!local) return;
        try {
            String now = LocalPacing.unpace(channel);
            if (now != null) LOG.debug("{}: a client on this host: TCP congestion control {} instead of a pacing one", peer, now);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: congestion control left as it was: {}", peer, e.toString());
        }
    }

    /** The next {@code n} bytes, flipped for reading. */
    ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(b);
        return b.flip();
    }

    /**
     * From now on reads go through {@code buffer}, and {@code beforeBlocking} runs before each
     * read from the socket (which may wait for the client): the corked replies go out then.
     * Before such a read the socket is polled for up to {@code busyPollNanos} ({@link BusyPoll}).
     */
    void readAhead(ByteBuffer buffer, Runnable beforeBlocking, long busyPollNanos) throws IOException {
        this.readAhead = buffer.clear().flip();
        this.beforeBlocking = beforeBlocking;
        this.busyPoll = new BusyPoll(channel, busyPollNanos);
    }

    void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (readAhead != null && readAhead.hasRemaining()) {
                int n = Math.min(b.remaining(), readAhead.remaining());
                b.put(b.position(), readAhead, readAhead.position(), n).position(b.position() + n);
                readAhead.position(readAhead.position() + n);
            } else if (readAhead != null && b.remaining() < readAhead.capacity() / 2) {
                if (fill() < 0) throw new EOFException("end of stream with " + b.remaining() + " bytes still expected");
            } else {
                if (beforeBlocking != null) beforeBlocking.run();
                if (channel.read(b) < 0) throw new EOFException("end of stream with " + b.remaining() + " bytes still expected");
            }
        }
    }

    /** Reads a whole buffer; false on a clean end of stream before its first byte. */
    boolean readOrEof(ByteBuffer b) throws IOException {
        if (readAhead != null) {
            if (!readAhead.hasRemaining() && fill() < 0) return false;
        } else if (channel.read(b) < 0) return false;
        readFully(b);
        return true;
    }

    /** Refills the empty read-ahead buffer with what the socket has (waiting for one byte at least). */
    private int fill() throws IOException {
        beforeBlocking.run();
        readAhead.clear();
        busyPoll.poll();
        int n = channel.read(readAhead);
        busyPoll.waited();
        readAhead.flip();
        return n;
    }

    /** Reads and drops {@code n} bytes (a refused request's payload), to stay in step with the client. */
    void skip(long n) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(n, 1 << 16));
        while (n > 0) {
            scratch.clear().limit((int) Math.min(n, scratch.capacity()));
            readFully(scratch);
            n -= scratch.limit();
        }
    }

    /** Stops reading requests; replies to those in flight can still go out. */
    void shutdownInput() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            close();
        }
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    /** Closes the socket; a thread blocked reading or writing it gets an exception. */
    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("{}: close: {}", peer, e.toString());
        }
    }
}
