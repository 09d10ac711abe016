package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.dmstack.block.BlkStatus;

/**
 * One connection to the server in the transmission phase, with requests pipelined on it: a
 * sender thread writes requests as they are queued, a receiver thread reads replies and matches
 * them to requests by handle, in whatever order they come.
 *
 * <p>Both are platform threads, each waiting in the kernel on a socket made blocking again after
 * the handshake ({@link org.dmstack.nbd.socket.BlockingMode}). On virtual threads every reply
 * woke the JDK's poller thread first, then a carrier for the receiver: 4 KiB reads at queue depth
 * 1 took 159 µs of CPU per request against 83 on platform threads (benchmarks/README.md, round 21).
 * No virtual thread may block on the socket from then on; the handshake's does not any more.
 *
 * <p>A request submitted while nothing is queued and no one is sending, and with no more than
 * {@link #INLINE_MAX} bytes of payload, is written by the submitting thread itself, as Linux's nbd
 * sends from the submitting context: no thread to wake, which at queue depth 1 is half the
 * hand-offs of a round trip. That thread may then wait while the socket is full (back-pressure,
 * as a write(2) does: only while the server takes nothing, until the connection is given up as
 * stalled). Virtual threads never send inline (the socket is blocking: one would hold its carrier
 * while it waits), nor do the driver's own threads: a bio's completion may submit the next bio
 * from a receiver, and a receiver waiting on a full socket would deadlock with a server waiting
 * for it to read. What they submit, larger WRITEs,
 * and anything submitted while the sender is busy, is queued for the sender: that never blocks.
 *
 * <p>When the connection breaks — the server goes away, a send fails, or the server says
 * something the protocol does not allow — the receiver closes it, waits for the senders to stop
 * and hands every request not yet answered back to the device, which sends them again elsewhere.
 * A request's buffer is only ever written by the receiver, so a request handed back is no longer
 * touched by this connection.
 */
final class Connection {
    /** Who hears that a connection broke. */
    interface Owner {
        /** The connection is closed; {@code unfinished} were sent or queued but not answered. */
        void broken(Connection connection, List<Request> unfinished, IOException why);
    }

    /** Put in the queue to stop the sender; NBD_CMD_DISC is sent first when the server is still there. */
    private static final Request DISCONNECT = new Request(CMD_DISC, 0, 0, 0, null, s -> { });

    private final String device;
    private final SocketChannel ch;
    private final ExportInfo info;
    private final Owner owner;
    /**
     * The largest WRITE payload a submitting thread sends itself: what a socket whose server reads
     * takes without making the writer wait, and enough for the requests whose round trip a thread's
     * wake-up dominates. Larger ones go to the sender, so a server slow to read a large payload
     * never holds up the submitter.
     */
    static final int INLINE_MAX = 64 << 10;

    /** Set on the driver's own threads, every connection's sender and receiver: they never send inline. */
    private static final ThreadLocal<Boolean> DRIVER_THREAD = ThreadLocal.withInitial(() -> false);

    private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
    /** Held while a request is written, by the sender or a submitting thread. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ByteBuffer header = ByteBuffer.allocate(REQUEST_SIZE); // guarded by sendLock
    private final Map<Long, Request> inflight = new ConcurrentHashMap<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final Object lock = new Object();
    private boolean dead; // guarded by lock
    private boolean draining; // the server said ESHUTDOWN: nothing new is sent, NBD_CMD_DISC is on its way; guarded by lock
    private volatile long lastProgress = System.nanoTime(); // the last reply, or the first request after none in flight
    private volatile String abortReason;
    private long nextHandle; // guarded by lock
    private Thread sender;
    private Thread receiver;

    Connection(String device, SocketChannel ch, ExportInfo info, Owner owner) {
        this.device = device;
        this.ch = ch;
        this.info = info;
        this.owner = owner;
    }

    void start(String name) {
        sender = Thread.ofPlatform().daemon().name(name + " send").start(this::sendLoop);
        receiver = Thread.ofPlatform().daemon().name(name + " receive").start(this::receiveLoop);
    }

    ExportInfo info() {
        return info;
    }

    /**
     * Sends a request from this thread, or queues it for the sender; false when the connection is
     * already broken (send it elsewhere).
     */
    boolean offer(Request r) {
        synchronized (lock) {
            if (dead || draining) return false;
            // Not from a virtual thread: it would wait in the kernel on the blocking socket, holding
            // its carrier. Memory the sender could not reach goes its way, to fail there as it always has.
            boolean inline = queue.isEmpty() && (r.type != CMD_WRITE || r.length <= INLINE_MAX) && !Thread.currentThread().isVirtual()
                    && !DRIVER_THREAD.get() && (r.data == null || r.data.scope().isAlive() && r.data.isAccessibleBy(sender)) && sendLock.tryLock();
            if (!inline) {
                queue.add(r);
                return true;
            }
        }
        try {
            return send(r);
        } catch (IOException | RuntimeException e) {
            closeChannel(); // sent or not, the request is in flight: the receiver's teardown hands it back
            return true;
        } finally {
            sendLock.unlock();
        }
    }

    /** Requests written to this connection so far (resent ones count again). */
    long requestsSent() {
        return sent.get();
    }

    /** Requests this connection answered (with success or an error reply). */
    long answered() {
        return answered.get();
    }

    /** Requests sent and not yet answered. */
    int inFlight() {
        return inflight.size();
    }

    /**
     * Ends the connection: NBD_CMD_DISC after the requests already queued, then the socket is
     * closed after at most {@code graceMillis}. Unanswered requests go to the owner as for a break.
     */
    void close(long graceMillis) {
        synchronized (lock) {
            if (!dead) queue.add(DISCONNECT);
        }
        try {
            if (!receiver.join(java.time.Duration.ofMillis(graceMillis))) closeChannel();
            receiver.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeChannel();
        }
    }

    private void sendLoop() {
        DRIVER_THREAD.set(true);
        try {
            while (true) {
                Request r = queue.take();
                if (r.data != null && !(r.data.scope().isAlive() && r.data.isAccessibleBy(Thread.currentThread()))) {
                    // Memory another thread confined, or freed: the request cannot be sent, and says so, alone.
                    r.complete(BlkStatus.ioerr(device + ": cannot send " + r + ": its memory is " + (r.data.scope().isAlive()
                            ? "confined to another thread" : "freed")));
                    continue;
                }
                sendLock.lock();
                try {
                    if (!send(r)) {
                        queue.add(r); // the receiver's teardown collects it with the rest
                        return;
                    }
                } finally {
                    sendLock.unlock();
                }
                if (r == DISCONNECT) return;
            }
        } catch (InterruptedException e) {
            closeChannel();
        } catch (IOException | RuntimeException e) {
            closeChannel(); // the receiver sees it and tears down; a sender that died quietly would leave its queue unsent
        }
    }

    /**
     * Writes a request, in flight from now on; false, with nothing sent, when the connection is
     * dead. Under {@link #sendLock}.
     */
    private boolean send(Request r) throws IOException {
        long handle;
        synchronized (lock) {
            if (dead) return false;
            handle = nextHandle++;
            if (r != DISCONNECT) {
                r.resetReply();
                if (inflight.isEmpty()) lastProgress = System.nanoTime();
                inflight.put(handle, r);
            }
        }
        header.clear().putInt(REQUEST_MAGIC).putShort((short) r.cmdFlags).putShort((short) r.type).putLong(handle)
                .putLong(r.offset).putInt(r.length).flip();
        if (r.type == CMD_WRITE) {
            r.sending();
            try {
                Wire.writeFully(ch, header, r.data.asByteBuffer());
            } finally {
                r.sent();
            }
        } else {
            Wire.writeFully(ch, header);
        }
        if (r == DISCONNECT) {
            ch.shutdownOutput(); // the server closes its side; the receiver sees the end
        } else {
            sent.incrementAndGet();
        }
        return true;
    }

    private void receiveLoop() {
        DRIVER_THREAD.set(true);
        IOException why = null;
        try {
            ReplyReader in = new ReplyReader(ch);
            while (true) {
                int m = in.need(4).getInt();
                if (m == SIMPLE_REPLY_MAGIC) simpleReply(in);
                else if (m == STRUCTURED_REPLY_MAGIC && info.structuredReplies()) chunk(in);
                else throw new NbdProtocolException("reply with a wrong magic 0x" + Integer.toHexString(m));
            }
        } catch (IOException e) {
            why = abortReason != null ? new IOException(abortReason, e) : e;
        } catch (RuntimeException e) { // never a receiver gone quietly: its requests go elsewhere, with the reason
            why = new IOException(e.toString(), e);
        } finally {
            teardown(why);
        }
    }

    private void simpleReply(ReplyReader in) throws IOException {
        in.need(SIMPLE_REPLY_SIZE - 4);
        int error = in.getInt();
        long handle = in.getLong();
        Request r = request(handle);
        if (r.type == CMD_READ && info.structuredReplies()) {
            // Whether data follows cannot be known, so nothing after it can be trusted (libnbd: "unexpected simple reply for read").
            throw new NbdProtocolException("a simple reply to " + r + " although structured replies were negotiated");
        }
        if (error == ESHUTDOWN) {
            drain();
            return;
        }
        if (error == 0 && r.type == CMD_READ) {
            in.readFully(r.data.asByteBuffer());
        }
        finish(handle, r, error == 0 ? BlkStatus.OK : r.serverError(device, error, null));
    }

    private void chunk(ReplyReader in) throws IOException {
        in.need(CHUNK_HEADER_SIZE - 4);
        int flags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long handle = in.getLong();
        long length = Integer.toUnsignedLong(in.getInt());
        Request r = request(handle);
        switch (type) {
            case REPLY_TYPE_NONE -> {
                if (length != 0 || (flags & REPLY_FLAG_DONE) == 0) throw new NbdProtocolException("NBD_REPLY_TYPE_NONE with a payload or not last");
            }
            case REPLY_TYPE_OFFSET_DATA -> {
                if (r.type != CMD_READ || length < 9) throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_DATA for " + r + " of " + length + " bytes");
                long offset = in.need(8).getLong();
                in.readFully(slice(r, offset, length - 8).asByteBuffer());
            }
            case REPLY_TYPE_OFFSET_HOLE -> {
                if (r.type != CMD_READ || length != 12) throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_HOLE for " + r + " of " + length + " bytes");
                in.need(12);
                long offset = in.getLong();
                long size = Integer.toUnsignedLong(in.getInt());
                if (size == 0) throw new NbdProtocolException("NBD_REPLY_TYPE_OFFSET_HOLE of 0 bytes for " + r);
                slice(r, offset, size).fill((byte) 0);
            }
            default -> {
                if ((type & REPLY_TYPE_FLAG_ERROR) == 0) throw new NbdProtocolException("unknown reply chunk type " + type + " for " + r);
                errorChunk(in, r, length);
            }
        }
        if ((flags & REPLY_FLAG_DONE) == 0) return;
        if (r.error == ESHUTDOWN) {
            drain();
            return;
        }
        if (r.error != 0) {
            finish(handle, r, r.serverError(device, r.error, r.errorMessage));
        } else if (r.type == CMD_READ && r.covered != r.length) {
            throw new NbdProtocolException("the reply to " + r + " covered " + r.covered + " bytes");
        } else {
            finish(handle, r, BlkStatus.OK);
        }
    }

    /** NBD_REPLY_TYPE_ERROR, NBD_REPLY_TYPE_ERROR_OFFSET and error types we do not know: errno, message, rest. */
    private void errorChunk(ReplyReader in, Request r, long length) throws IOException {
        if (length < 6 || length > MAX_STRING + 16) throw new NbdProtocolException("error chunk of " + length + " bytes");
        ByteBuffer b = in.take((int) length);
        int error = b.getInt();
        int messageLength = Short.toUnsignedInt(b.getShort());
        if (error == 0 || messageLength > b.remaining()) throw new NbdProtocolException("malformed error chunk for " + r);
        String message = printable(StandardCharsets.UTF_8.decode(b.slice(b.position(), messageLength)).toString());
        if (r.error == 0) {
            r.error = error;
            r.errorMessage = message;
        }
    }

    /**
     * The part of a READ's buffer a content chunk at {@code offset} fills, counted as filled; the
     * chunk must lie inside the request and overlap no chunk before it.
     */
    private static MemorySegment slice(Request r, long offset, long size) throws NbdProtocolException {
        long start = offset - r.offset;
        if (start < 0 || size > r.length - start) {
            throw new NbdProtocolException("a reply chunk at offset " + Long.toUnsignedString(offset) + " of " + size + " bytes lies outside " + r);
        }
        r.fill(start, size);
        return r.data.asSlice(start, size);
    }

    private Request request(long handle) throws NbdProtocolException {
        Request r = inflight.get(handle);
        if (r == null) throw new NbdProtocolException("reply for an unknown handle " + handle);
        return r;
    }

    /**
     * The server is shutting down (it answered ESHUTDOWN): as the spec asks, a soft disconnect.
     * NBD_CMD_DISC goes out after what is already queued, nothing more is sent, and the request
     * stays unanswered here, to be sent again elsewhere once the server has closed the connection.
     */
    private void drain() {
        synchronized (lock) {
            if (dead || draining) return;
            draining = true;
            abortReason = "the server is shutting down (ESHUTDOWN)";
            queue.add(DISCONNECT);
        }
    }

    /** Only now, with the whole reply read, does the request leave the connection. */
    private void finish(long handle, Request r, BlkStatus status) {
        inflight.remove(handle);
        answered.incrementAndGet();
        lastProgress = System.nanoTime();
        r.answer(status);
    }

    /** Whether requests are waiting for a reply and none has come for {@code limitNanos}. */
    boolean stalled(long now, long limitNanos) {
        return !inflight.isEmpty() && now - lastProgress > limitNanos;
    }

    /** Gives the connection up as broken (a server that stopped answering); its requests go elsewhere. */
    void abort(String reason) {
        abortReason = reason;
        closeChannel();
    }

    private void teardown(IOException why) {
        synchronized (lock) {
            dead = true;
            queue.add(DISCONNECT); // wakes a sender waiting for work
        }
        closeChannel();
        try {
            sender.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // A submitting thread that was writing has stopped (the channel is closed); one that comes
        // later finds the connection dead and sends its request elsewhere.
        sendLock.lock();
        sendLock.unlock();
        List<Request> unfinished = new ArrayList<>(inflight.values());
        inflight.clear();
        for (Request r : queue) if (r != DISCONNECT) unfinished.add(r);
        queue.clear();
        owner.broken(this, unfinished, why);
    }

    private void closeChannel() {
        try {
            ch.close();
        } catch (IOException e) {
            // closing is all we wanted
        }
    }
}
