package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase, as nbdkit's protocol.c: the reader takes requests off the wire,
 * checks each ({@link #validate}, a flat list as nbdkit's validate_request), and starts it
 * holding a {@link Permit}.
 *
 * <p>A READ whose backend can lend its memory ({@link Backend#pinForRead}) is answered from it
 * at once, with no copy. A READ or WRITE whose backend is there is started from the reader itself: the backend
 * completes it asynchronously ({@link Reply}), so the reader never waits for one, and one that
 * completes at once is answered at once; so is a BLOCK_STATUS ({@link BlockStatus}), which only
 * asks the backend where its holes are. Everything else (a backend that is away, FLUSH, TRIM,
 * WRITE_ZEROES) may wait, so it runs on a virtual thread of its own. Replies go out as
 * requests finish, the reader's corked until it would wait, those of large READs to a client on
 * another host written by the connection's sender while the CPUs are busy ({@link Replies}).
 *
 * <p>The reader takes requests in through a read-ahead buffer, and the replies it makes itself
 * are corked until it would wait for the client ({@link Replies}): with many requests in flight,
 * one read(2) brings in several and one write(2) answers them.
 *
 * <p>A client must read replies while it sends requests (every real client does): the reader
 * writing a reply does not read meanwhile, so a client that only writes stalls itself, and only
 * itself. A request is only submitted once all of it has arrived, so a client that vanishes
 * mid-request changes nothing. A request a backend has started is never timed out here: a
 * device held during a hot swap completes it late, and the reply goes out then. One a backend
 * turned down, or gave back unfinished, because it was being withdrawn waits, as one that
 * arrives while the export is away does, for a backend to come back, up to the hold time.
 */
final class Transmission {
    private static final Logger LOG = LoggerFactory.getLogger(Transmission.class);

    /** Requests in flight per connection before the reader stops reading (back-pressure). */
    static final int MAX_REQUESTS = 128;
    /** A refused WRITE's payload is read and dropped up to this size; beyond it the client is cut off, as nbdkit does. */
    static final long MAX_SKIP = 2L * MAX_PAYLOAD;
    /** Bytes of requests read from the socket at once; a WRITE's payload of half this or more is read straight into its buffer. */
    static final int READ_AHEAD = 64 << 10;

    private final Wire wire;
    private final Negotiated n;
    private final Export export;
    private final long holdNanos;
    private final long busyPollNanos;
    private final Replies replies;
    private final Permit.Permits permits;
    /** The pieces of the READ being answered in place (only the reader uses it). */
    private final List<ByteBuffer> inPlace = new ArrayList<>();
    private volatile long lastRequest = System.nanoTime();
    /**
     * The reader is waiting for the rest of a WRITE's payload: that request holds a permit but
     * is not in flight (nothing was submitted), so it does not keep the session from being idle.
     */
    private volatile boolean awaitingPayload;

    /**
     * @param maxBytes payload bytes (of reads and writes) in flight at once, replies not yet
     *     written included: the bound on what a client that does not read its replies can hold
     * @param senders the platform threads the connection's {@link Sender} is taken from
     * @param spare the server's buffers left by ended connections, for this one's payloads and read-ahead
     */
    Transmission(Wire wire, Negotiated negotiated, long holdNanos, long busyPollNanos, int maxBytes, Executor senders, PayloadPool spare) {
        this.wire = wire;
        this.n = negotiated;
        this.export = negotiated.export();
        this.holdNanos = holdNanos;
        this.busyPollNanos = busyPollNanos;
        this.replies = new Replies(wire, negotiated.structured(), senders);
        this.permits = new Permit.Permits(MAX_REQUESTS, maxBytes, spare);
    }

    /** When the last request arrived (System.nanoTime). */
    long lastRequest() {
        return lastRequest;
    }

    /**
     * Whether no request is in flight: none holds a permit but, maybe, the WRITE whose payload
     * the client is still to send. So a client that sends half a WRITE and waits is idle from its
     * request's header on (and one that dribbles it a byte at a time is too).
     */
    boolean idle() {
        int inFlight = permits.inFlight(); // before the flag: a payload that has just arrived counts as in flight
        return inFlight <= (awaitingPayload ? 1 : 0);
    }

    /**
     * Gives back the payload buffers kept for the next requests if nothing is in flight and no
     * request came for {@code quietNanos} before {@code now} (System.nanoTime).
     */
    void trimIfQuiet(long now, long quietNanos) {
        if (idle() && now - lastRequest >= quietNanos) permits.trim();
    }

    /** Payload memory this connection has mapped now. */
    long mappedBytes() {
        return permits.mappedBytes();
    }

    /** Reads and starts requests until the client disconnects; then waits for the replies to what is in flight. */
    void run() throws IOException, InterruptedException {
        ByteBuffer header = ByteBuffer.allocate(28);
        replies.cork();
        wire.readAhead(permits.readAhead(READ_AHEAD).asByteBuffer(), replies::flush, busyPollNanos); // back to the pool when the reader is done
        readRequests(header);
    }

    private void readRequests(ByteBuffer header) throws IOException, InterruptedException {
        try {
            while (true) {
                header.clear();
                if (!wire.readOrEof(header)) break; // the client closed: finish what is in flight
                header.flip();
                int magic = header.getInt();
                if (magic != REQUEST_MAGIC) throw new ProtocolError(String.format("bad request magic 0x%08x", magic));
                Request r = new Request(Short.toUnsignedInt(header.getShort()), Short.toUnsignedInt(header.getShort()), header.getLong(),
                        header.getLong(), Integer.toUnsignedLong(header.getInt()));
                lastRequest = System.nanoTime();
                if (r.type() == CMD_DISC) {
                    LOG.debug("{}: NBD_CMD_DISC", wire.peer);
                    break;
                }
                Refusal refusal = validate(r);
                if (refusal != null) {
                    refuse(r, refusal);
                    continue;
                }
                boolean payload = (r.type() == CMD_READ || r.type() == CMD_WRITE) && r.length() > 0;
                Permit permit = permits.tryAcquire(payload ? (int) r.length() : 0);
                if (permit == null) {
                    replies.flush(); // the replies to send may be what frees a permit
                    permit = permits.acquire(payload ? (int) r.length() : 0);
                }
                try {
                    if (r.type() == CMD_READ && payload && readInPlace(r, permit)) continue;
                    if (payload && !buffer(r, permit)) continue;
                    // All of a WRITE's payload, or nothing is written.
                    if (payload && r.type() == CMD_WRITE) readPayload(permit.buffer(r.length()).asByteBuffer());
                    start(r, permit);
                } catch (Throwable t) {
                    permit.close();
                    throw t;
                }
            }
        } finally {
            // Replies to what is in flight still go out (a DISC, a half-closed socket, a stop).
            replies.flush();
            permits.drainAndClose();
            replies.close();
        }
    }

    /** Answers a refused request; a WRITE's payload is read and dropped, so the session stays in step. */
    private void refuse(Request r, Refusal refusal) throws IOException {
        if (r.type() == CMD_WRITE && r.length() > MAX_SKIP) {
            replies.error(r, refusal.error(), refusal.message());
            throw new ProtocolError(refusal.message() + "; too large to skip");
        }
        if (r.type() == CMD_WRITE) wire.skip(r.length());
        replies.error(r, refusal.error(), refusal.message());
    }

    /**
     * Answers a READ straight from its backend's memory, pinned until the reply is out (one copy
     * fewer: the kernel's into the socket is the only one); false when the backend cannot, and
     * the READ then goes the usual way.
     */
    private boolean readInPlace(Request r, Permit permit) {
        Backend b = export.backend();
        if (b == null || export.isShutdown()) return false;
        inPlace.clear();
        if (!b.pinForRead(r.offset(), r.length(), inPlace)) return false;
        permit.pinned(b);
        replies.okInPlace(r, inPlace, r.length(), permit);
        inPlace.clear();
        return true;
    }

    /** Reads all of a WRITE's payload; meanwhile the request is not in flight ({@link #idle}): the client owes it. */
    private void readPayload(ByteBuffer into) throws IOException {
        awaitingPayload = true;
        wire.readFully(into);
        awaitingPayload = false;
    }

    /**
     * Maps the payload buffer of a READ or WRITE; false, with the request answered ENOMEM and
     * its permit closed, when there is no memory for it.
     */
    private boolean buffer(Request r, Permit permit) throws IOException {
        try {
            permit.buffer(r.length());
            return true;
        } catch (OutOfMemoryError e) {
            permit.close();
            refuse(r, new Refusal(ENOMEM, r.command() + ": " + e.getMessage()));
            return false;
        }
    }

    /**
     * Starts a checked request; it owns {@code permit} from here on. A READ or WRITE whose
     * backend is there is started from the reader; anything that may wait runs on a virtual
     * thread of its own.
     */
    private void start(Request r, Permit permit) {
        Backend b = export.backend();
        boolean inline = ((r.type() == CMD_READ || r.type() == CMD_WRITE) && r.length() > 0) || r.type() == CMD_BLOCK_STATUS;
        if (b == null || export.isShutdown() || !inline || !submit(b, r, permit)) {
            Thread.ofVirtual().name("nbd-request").start(() -> execute(r, permit));
        }
    }

    /** Gives a checked request to {@code b}; false when it turned the request down, being withdrawn. */
    private boolean submit(Backend b, Request r, Permit permit) {
        if (r.type() == CMD_BLOCK_STATUS) { // the backend answers at once, and a withdrawn one with "all data"
            replies.whole(BlockStatus.reply(r, n.contexts(), b, n.minBlock()), permit);
            return true;
        }
        boolean readWrite = r.type() == CMD_READ || r.type() == CMD_WRITE;
        MemorySegment data = readWrite ? permit.buffer(r.length()) : null;
        Reply reply = new Reply(this, b, r, permit, replies, data);
        boolean fua = r.fua();
        return switch (r.type()) {
            case CMD_READ -> b.read(r.offset(), data, reply);
            case CMD_WRITE -> b.write(r.offset(), data, fua, reply);
            case CMD_FLUSH -> b.flush(reply);
            case CMD_TRIM -> b.trim(r.offset(), r.length(), fua, reply);
            case CMD_WRITE_ZEROES -> b.writeZeroes(r.offset(), r.length(), fua, (r.flags() & CMD_FLAG_NO_HOLE) != 0, reply);
            default -> throw new IllegalStateException("unchecked command " + r.type());
        };
    }

    /** Why a request cannot be done: the protocol's error code and a sentence. */
    record Refusal(int error, String message) {}

    /**
     * Why a request cannot be done, before any device sees it, or null. The checks go in this
     * order: command, flags, read-only (EPERM), a BLOCK_STATUS without a metadata context or of
     * length 0, size limit, alignment, range (ENOSPC for writes, EINVAL otherwise, as the spec
     * asks); everything else is EINVAL.
     */
    private Refusal validate(Request r) {
        String cmd = r.command();
        int allowed;
        switch (r.type()) {
            case CMD_READ -> allowed = n.fua() ? CMD_FLAG_FUA | CMD_FLAG_DF : CMD_FLAG_DF;
            case CMD_WRITE, CMD_TRIM, CMD_FLUSH -> allowed = n.fua() ? CMD_FLAG_FUA : 0;
            case CMD_WRITE_ZEROES -> allowed = (n.fua() ? CMD_FLAG_FUA : 0) | CMD_FLAG_NO_HOLE;
            case CMD_BLOCK_STATUS -> allowed = (n.fua() ? CMD_FLAG_FUA : 0) | CMD_FLAG_REQ_ONE;
            default -> {
                return new Refusal(EINVAL, "unknown command " + r.type());
            }
        }
        if (!n.structured()) allowed &= ~CMD_FLAG_DF;
        if ((r.flags() & ~allowed) != 0) return new Refusal(EINVAL, String.format("%s: unsupported flags 0x%x", cmd, r.flags() & ~allowed));
        boolean write = r.type() == CMD_WRITE || r.type() == CMD_TRIM || r.type() == CMD_WRITE_ZEROES;
        if (write && export.readOnly()) return new Refusal(EPERM, cmd + ": export '" + export.name() + "' is read-only");
        if (r.type() == CMD_FLUSH) {
            return r.offset() == 0 && r.length() == 0 ? null : new Refusal(EINVAL, "NBD_CMD_FLUSH: offset and length must be zero");
        }
        if (r.type() == CMD_BLOCK_STATUS) {
            if (n.contexts().isEmpty()) return new Refusal(EINVAL, cmd + ": no metadata context was selected (NBD_OPT_SET_META_CONTEXT)");
            if (r.length() == 0) return new Refusal(EINVAL, cmd + ": length 0");
        }
        if ((r.type() == CMD_READ || r.type() == CMD_WRITE) && r.length() > MAX_PAYLOAD) {
            return new Refusal(EINVAL, cmd + ": length " + r.length() + " is over the maximum of " + MAX_PAYLOAD);
        }
        int minBlock = n.minBlock();
        if ((r.offset() & (minBlock - 1)) != 0 || (r.length() & (minBlock - 1)) != 0) {
            return new Refusal(EINVAL, cmd + ": offset " + Long.toUnsignedString(r.offset()) + " length " + r.length()
                    + " is not aligned to the block size " + minBlock);
        }
        long size = n.size();
        if (r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
            boolean grows = r.type() == CMD_WRITE || r.type() == CMD_WRITE_ZEROES;
            return new Refusal(grows ? ENOSPC : EINVAL, cmd + ": offset " + Long.toUnsignedString(r.offset()) + " length " + r.length()
                    + " is beyond the end of the export (" + size + " bytes)");
        }
        return null;
    }

    /** A request {@code b} had taken but was withdrawn under: it waits for the backend that replaces it. */
    void again(Backend b, Request r, Permit permit) {
        export.withdrawn(b);
        Thread.ofVirtual().name("nbd-request").start(() -> execute(r, permit));
    }

    /**
     * Runs a checked request on its own virtual thread: waits for its backend (up to the hold
     * time, while it is away or being withdrawn), then gives it the request.
     */
    private void execute(Request r, Permit permit) {
        boolean handedOver = false; // the permit is the backend's, or its reply's, to close
        try {
            if (r.length() == 0 && r.type() != CMD_FLUSH) {
                handedOver = true;
                replies.ok(r, r.type() == CMD_READ ? ByteBuffer.allocate(0) : null, permit);
                return;
            }
            long deadline = System.nanoTime() + holdNanos;
            while (!handedOver) {
                Backend b = export.await(deadline);
                if (b == null) {
                    boolean stopping = export.isShutdown();
                    String why = stopping ? "the server is shutting down" : "device " + export.spec.device() + " did not come back";
                    handedOver = true;
                    replies.error(r, stopping ? ESHUTDOWN : EIO, r.command() + ": " + why, permit);
                    return;
                }
                handedOver = submit(b, r, permit);
                if (!handedOver) export.withdrawn(b); // wait for the one that replaces it
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{}: {} failed", wire.peer, r.command(), e);
            if (!handedOver) {
                handedOver = true;
                replies.error(r, EIO, "internal error: " + e, permit);
            }
        } finally {
            if (!handedOver) permit.close();
        }
    }
}
