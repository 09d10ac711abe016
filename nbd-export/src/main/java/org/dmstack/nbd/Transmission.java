package org.dmstack.nbd;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.units.Units;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase, as nbdkit's protocol.c: the reader takes requests off the wire,
 * checks each ({@link #validate}, a flat list as nbdkit's validate_request), and starts it
 * holding a {@link Permit}.
 *
 * <p>A READ or WRITE whose device is there is submitted from the reader itself ({@link
 * ReadWrite}): bios complete asynchronously, so the reader never waits for one, and one that
 * completes at once is answered at once. Everything else (a device that is away, FLUSH, TRIM,
 * WRITE_ZEROES) may wait, so it runs on a virtual thread of its own. Replies go out in the
 * order requests finish.
 *
 * <p>The reader takes requests in through a read-ahead buffer, and the replies it makes itself
 * are corked until it would wait for the client ({@link Replies}): with many requests in flight,
 * one read(2) brings in several and one write(2) answers them.
 *
 * <p>A client must read replies while it sends requests (every real client does): the reader
 * writing a reply does not read meanwhile, so a client that only writes stalls itself, and only
 * itself. A request is only submitted once all of it has arrived, so a client that vanishes
 * mid-request changes nothing. Bios are never timed out here: a device held during a hot swap
 * completes them late, and the reply goes out then.
 */
final class Transmission {
    private static final Logger LOG = LoggerFactory.getLogger(Transmission.class);

    /** Requests in flight per connection before the reader stops reading (back-pressure). */
    static final int MAX_REQUESTS = 128;
    /** A refused WRITE's payload is read and dropped up to this size; beyond it the client is cut off, as nbdkit does. */
    static final long MAX_SKIP = 2L * MAX_PAYLOAD;
    /** Bytes of requests read from the socket at once; a WRITE's payload of half this or more is read straight into its buffer. */
    static final int READ_AHEAD = 64 << 10;
    private static final MemorySegment ZEROES = Arena.global().allocate(1 << 20);

    private final Wire wire;
    private final Negotiated n;
    private final Export export;
    private final long holdNanos;
    private final Replies replies;
    private final Permit.Permits permits;
    private volatile long lastRequest = System.nanoTime();

    /**
     * @param maxBytes payload bytes (of reads and writes) in flight at once, replies not yet
     *     written included: the bound on what a client that does not read its replies can hold
     */
    Transmission(Wire wire, Negotiated negotiated, long holdNanos, int maxBytes) {
        this.wire = wire;
        this.n = negotiated;
        this.export = negotiated.export();
        this.holdNanos = holdNanos;
        this.replies = new Replies(wire, negotiated.structured());
        this.permits = new Permit.Permits(MAX_REQUESTS, maxBytes);
    }

    /** When the last request arrived (System.nanoTime). */
    long lastRequest() {
        return lastRequest;
    }

    /** Whether no request is in flight. */
    boolean idle() {
        return permits.idle();
    }

    /** Payload memory this connection has mapped now. */
    long mappedBytes() {
        return permits.mappedBytes();
    }

    /** Reads and starts requests until the client disconnects; then waits for the replies to what is in flight. */
    void run() throws IOException, InterruptedException {
        ByteBuffer header = ByteBuffer.allocate(28);
        replies.cork();
        // Confined: only this thread reads requests, and the memory goes back when it is done.
        try (Arena readAhead = Arena.ofConfined()) {
            wire.readAhead(readAhead.allocate(READ_AHEAD).asByteBuffer(), replies::flush);
            readRequests(header);
        }
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
                    if (payload && !buffer(r, permit)) continue;
                    // All of a WRITE's payload, or nothing is written.
                    if (payload && r.type() == CMD_WRITE) wire.readFully(permit.buffer(r.length()).asByteBuffer());
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
     * device is there is submitted from the reader; anything that may wait runs on a virtual
     * thread of its own.
     */
    private void start(Request r, Permit permit) {
        BlockDevice d = export.device();
        if (d == null || export.isShutdown() || r.length() == 0 || !(r.type() == CMD_READ || r.type() == CMD_WRITE)) {
            Thread.ofVirtual().name("nbd-request").start(() -> execute(r, permit));
            return;
        }
        ReadWrite.submit(d, r, permit, replies);
    }

    /** Why a request cannot be done: the protocol's error code and a sentence. */
    record Refusal(int error, String message) {}

    /**
     * Why a request cannot be done, before any device sees it, or null. The checks go in this
     * order: command, flags, read-only (EPERM), size limit, alignment, range (ENOSPC for writes,
     * EINVAL otherwise, as the spec asks); everything else is EINVAL.
     */
    private Refusal validate(Request r) {
        String cmd = r.command();
        int allowed;
        switch (r.type()) {
            case CMD_READ -> allowed = n.fua() ? CMD_FLAG_FUA | CMD_FLAG_DF : CMD_FLAG_DF;
            case CMD_WRITE, CMD_TRIM, CMD_FLUSH -> allowed = n.fua() ? CMD_FLAG_FUA : 0;
            case CMD_WRITE_ZEROES -> allowed = (n.fua() ? CMD_FLAG_FUA : 0) | CMD_FLAG_NO_HOLE;
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

    /** Runs a checked request on its own virtual thread: waits for its device, then does it and replies. */
    private void execute(Request r, Permit permit) {
        boolean handedOver = false;
        try {
            if (r.length() == 0 && r.type() != CMD_FLUSH) {
                replies.ok(r, r.type() == CMD_READ ? ByteBuffer.allocate(0) : null);
                return;
            }
            BlockDevice d = export.await(holdNanos);
            if (d == null) {
                boolean stopping = export.isShutdown();
                String why = stopping ? "the server is shutting down" : "device " + export.spec.device() + " did not come back";
                replies.error(r, stopping ? ESHUTDOWN : EIO, r.command() + ": " + why);
                return;
            }
            if (r.type() == CMD_READ || r.type() == CMD_WRITE) {
                handedOver = true;
                ReadWrite.submit(d, r, permit, replies);
                return;
            }
            replies.status(r, run(d, r), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{}: {} failed", wire.peer, r.command(), e);
            replies.error(r, EIO, "internal error: " + e);
        } finally {
            if (!handedOver) permit.close();
        }
    }

    /** FLUSH, TRIM and WRITE_ZEROES, waiting for each bio. */
    private static BlkStatus run(BlockDevice d, Request r) {
        long sector = r.offset() >>> Units.SECTOR_SHIFT;
        boolean fua = r.fua() && d.writeCache();
        BlkStatus status;
        switch (r.type()) {
            case CMD_FLUSH -> status = run(d, Bio.flush());
            case CMD_TRIM -> {
                status = run(d, Bio.discard(sector, r.length()));
                // TRIM is a hint: a device that cannot discard has done nothing wrong.
                if (status.code() == BlkStatus.Code.NOTSUPP) status = BlkStatus.OK;
                if (fua) status = andThen(status, d, Bio.flush());
            }
            case CMD_WRITE_ZEROES -> {
                boolean noHole = (r.flags() & CMD_FLAG_NO_HOLE) != 0;
                status = noHole ? BlkStatus.notsupp("NO_HOLE") : run(d, fua && d.fua() ? Bio.writeZeroes(sector, r.length(), BioFlag.FUA)
                        : Bio.writeZeroes(sector, r.length()));
                // As blkdev_issue_zeroout: without (or not wanting) WRITE_ZEROES, write zero pages.
                if (status.code() == BlkStatus.Code.NOTSUPP) status = writeZeroPages(d, sector, r.length(), fua && d.fua());
                if (fua && !d.fua()) status = andThen(status, d, Bio.flush());
            }
            default -> throw new IllegalStateException("unchecked command " + r.type());
        }
        return status;
    }

    private static BlkStatus run(BlockDevice d, Bio bio) {
        d.submit(bio);
        return bio.await();
    }

    private static BlkStatus andThen(BlkStatus first, BlockDevice d, Bio next) {
        return first.isOk() ? run(d, next) : first;
    }

    private static BlkStatus writeZeroPages(BlockDevice d, long sector, long length, boolean fua) {
        long chunk = Math.min(ZEROES.byteSize(), ReadWrite.maxBytes(d));
        chunk = Math.max(chunk & -(long) d.limits().logicalBlockSize(), d.limits().logicalBlockSize());
        for (long off = 0; off < length; off += chunk) {
            MemorySegment zeroes = ZEROES.asSlice(0, Math.min(chunk, length - off));
            long s = sector + (off >>> Units.SECTOR_SHIFT);
            BlkStatus st = run(d, fua ? Bio.write(s, zeroes, BioFlag.FUA) : Bio.write(s, zeroes));
            if (!st.isOk()) return st;
        }
        return BlkStatus.OK;
    }
}
