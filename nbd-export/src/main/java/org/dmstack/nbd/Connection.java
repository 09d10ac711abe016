package org.dmstack.nbd;

import static org.dmstack.nbd.Nbd.*;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client: the handshake, then the transmission phase. The connection's own thread (the
 * reader) reads requests and checks them. A READ or WRITE is submitted from the reader itself;
 * when its bios complete at once (a RAM disk) the reader writes the reply too, before it reads the
 * next request, as nbdkit's worker threads do. A bio completed later by another thread (a device
 * holding I/O) is answered from a new virtual thread, so that thread never waits for this
 * client's socket; every other request (a device that is away, FLUSH, TRIM, WRITE_ZEROES) runs on
 * a virtual thread of its own, so it may wait without holding up the reader. Replies go out in
 * the order requests finish, each written whole under one lock.
 *
 * <p>A client must read replies while it sends requests (every real client does): the reader
 * writing a reply does not read meanwhile, so a client that only writes stalls itself, and only
 * itself.
 *
 * <p>A request is only submitted to the device once all of it has arrived, so a client that
 * vanishes mid-request changes nothing. Bios are never timed out here: a device held during a
 * hot swap completes them late, and the reply goes out then.
 */
final class Connection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    /** Requests in flight per connection before the reader stops reading (back-pressure). */
    static final int MAX_REQUESTS = 128;
    /** Payload bytes (reads and writes) in flight per connection. */
    static final int MAX_BYTES = 2 * MAX_PAYLOAD;
    /** Option data beyond this is refused (NBD_REP_ERR_TOO_BIG); far beyond it, disconnected. */
    static final int MAX_OPTION_DATA = 64 * 1024;
    static final int MAX_OPTION_SKIP = 1 << 20;

    private static final int HANDSHAKE_FLAGS = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES;
    private static final MemorySegment ZEROES = Arena.global().allocate(1 << 20);

    private final SocketChannel channel;
    private final ExportTable exports;
    private final long holdNanos;
    private final String peer;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final Semaphore requests = new Semaphore(MAX_REQUESTS);
    private final Semaphore bytes = new Semaphore(MAX_BYTES);
    private final PayloadPool payloads = new PayloadPool();
    private volatile boolean sendFailed;
    /** The thread reading requests; a request that completes on it is answered on it too. */
    private Thread reader;

    // Negotiated
    private boolean noZeroes;
    private boolean structured;
    private Export export;
    private long size;
    private int flags;
    private int minBlock;

    Connection(SocketChannel channel, ExportTable exports, long holdNanos) {
        this.channel = channel;
        this.exports = exports;
        this.holdNanos = holdNanos;
        String p;
        try {
            p = String.valueOf(channel.getRemoteAddress());
        } catch (IOException e) {
            p = "?";
        }
        this.peer = p;
    }

    @Override
    public void run() {
        try {
            if (handshake()) transmission();
        } catch (EOFException e) {
            LOG.debug("{}: client went away: {}", peer, e.getMessage());
        } catch (ProtocolError e) {
            LOG.warn("{}: {}; disconnecting", peer, e.getMessage());
        } catch (IOException e) {
            LOG.debug("{}: {}", peer, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{}: unexpected failure; disconnecting", peer, e);
        } finally {
            close();
        }
    }

    /** Stops reading requests; replies to those in flight still go out. */
    void shutdownInput() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            close();
        }
    }

    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("{}: close: {}", peer, e.toString());
        }
    }

    /** A breach of the protocol that ends the session with a hard disconnect. */
    static final class ProtocolError extends IOException {
        ProtocolError(String message) {
            super(message);
        }
    }

    // ---------------------------------------------------------------- handshake

    /** Returns true when the client chose an export and transmission begins. */
    private boolean handshake() throws IOException {
        ByteBuffer hello = ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) HANDSHAKE_FLAGS).flip();
        send(hello);
        int clientFlags = readBuffer(4).getInt();
        if ((clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolError(String.format("unknown client flags 0x%x", clientFlags));
        }
        noZeroes = (clientFlags & FLAG_C_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer header = readBuffer(16);
            long magic = header.getLong();
            if (magic != IHAVEOPT) throw new ProtocolError(String.format("bad option magic 0x%x", magic));
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            if (length > MAX_OPTION_DATA) {
                if (length > MAX_OPTION_SKIP || option == OPT_EXPORT_NAME) {
                    throw new ProtocolError(Nbd.optionName(option) + " with " + length + " bytes of data");
                }
                skip(length);
                optionError(option, REP_ERR_TOO_BIG, Nbd.optionName(option) + ": " + length + " bytes of option data is too much");
                continue;
            }
            ByteBuffer data = readBuffer((int) length);
            switch (option) {
                case OPT_EXPORT_NAME -> {
                    if (exportName(data)) return true;
                }
                case OPT_ABORT -> {
                    optionReply(option, REP_ACK, null);
                    return false;
                }
                case OPT_LIST -> list(data);
                case OPT_INFO, OPT_GO -> {
                    if (infoOrGo(option, data)) return true;
                }
                case OPT_STRUCTURED_REPLY -> {
                    if (length != 0) optionError(option, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
                    else if (structured) optionError(option, REP_ERR_INVALID, "structured replies are already negotiated");
                    else {
                        structured = true;
                        optionReply(option, REP_ACK, null);
                    }
                }
                case OPT_STARTTLS -> optionError(option, REP_ERR_UNSUP, "this server does not support TLS");
                default -> optionError(option, REP_ERR_UNSUP, Nbd.optionName(option) + " is not supported by this server");
            }
        }
    }

    /** NBD_OPT_EXPORT_NAME: no way to say no, so an unknown export ends the session. */
    private boolean exportName(ByteBuffer data) throws IOException {
        String name = string(data, data.remaining());
        Export e = name == null ? null : exports.find(name);
        BlockDevice d = e == null ? null : e.device();
        if (d == null) throw new ProtocolError("NBD_OPT_EXPORT_NAME: no export named '" + name + "'");
        negotiated(e, d);
        ByteBuffer reply = ByteBuffer.allocate(noZeroes ? 10 : 134);
        reply.putLong(size).putShort((short) flags).position(reply.limit()).flip();
        send(reply);
        LOG.info("{}: export '{}' ({} bytes, flags 0x{}) by NBD_OPT_EXPORT_NAME", peer, e.name(), size, Integer.toHexString(flags));
        return true;
    }

    private void list(ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            optionError(OPT_LIST, REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
            return;
        }
        for (Export e : exports.available()) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            byte[] description = e.description().getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(4 + name.length + description.length).putInt(name.length).put(name).put(description).flip();
            optionReply(OPT_LIST, REP_SERVER, b);
        }
        optionReply(OPT_LIST, REP_ACK, null);
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: same request, same replies; GO then enters transmission. */
    private boolean infoOrGo(int option, ByteBuffer data) throws IOException {
        String what = Nbd.optionName(option);
        int length = data.remaining();
        if (length < 6) return optionError(option, REP_ERR_INVALID, what + ": " + length + " bytes of data is too short");
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > length - 6) return optionError(option, REP_ERR_INVALID, what + ": name length " + nameLength + " overruns the option");
        String name = string(data, (int) nameLength);
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != 2 * count) {
            return optionError(option, REP_ERR_INVALID, what + ": " + count + " information requests do not fill the option's " + length + " bytes");
        }
        boolean wantName = false, wantDescription = false;
        for (int i = 0; i < count; i++) {
            int type = Short.toUnsignedInt(data.getShort());
            if (type == INFO_NAME) wantName = true;
            if (type == INFO_DESCRIPTION) wantDescription = true;
        }
        if (name == null) return optionError(option, REP_ERR_INVALID, what + ": the export name is not a valid NBD string");
        Export e = exports.find(name);
        BlockDevice d = e == null ? null : e.device();
        if (d == null) return optionError(option, REP_ERR_UNKNOWN, "No export named '" + name + "'");

        negotiated(e, d);
        optionReply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(size).putShort((short) flags).flip());
        if (wantName || !name.equals(e.name())) optionReply(option, REP_INFO, infoString(INFO_NAME, e.name()));
        if (wantDescription) optionReply(option, REP_INFO, infoString(INFO_DESCRIPTION, e.description()));
        QueueLimits limits = d.limits();
        optionReply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE)
                .putInt(minBlock).putInt(preferredBlock(limits, minBlock)).putInt(MAX_PAYLOAD).flip());
        optionReply(option, REP_ACK, null);
        if (option != OPT_GO) {
            export = null;
            return false;
        }
        LOG.info("{}: export '{}' ({} bytes, flags 0x{})", peer, e.name(), size, Integer.toHexString(flags));
        return true;
    }

    private static ByteBuffer infoString(int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + b.length).putShort((short) type).put(b).flip();
    }

    /** Fixes what the client will see of the export: its size, flags and block size. */
    private void negotiated(Export e, BlockDevice d) {
        export = e;
        size = d.sizeBytes();
        flags = transmissionFlags(e, d, structured);
        minBlock = Math.min(d.limits().logicalBlockSize(), 64 * 1024);
    }

    /**
     * The transmission flags, telling the truth about the device: FLUSH and FUA only when its
     * write cache is on; TRIM and WRITE_ZEROES only for writable exports. CAN_MULTI_CONN is
     * always safe here: the server keeps no cache of its own, every connection to an export
     * submits to the same device, and a FLUSH flushes the whole device's write cache.
     */
    static int transmissionFlags(Export e, BlockDevice d, boolean structured) {
        int f = FLAG_HAS_FLAGS | FLAG_CAN_MULTI_CONN;
        if (d.writeCache()) f |= FLAG_SEND_FLUSH;
        if (e.readOnly()) f |= FLAG_READ_ONLY;
        else {
            f |= FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES;
            if (d.writeCache()) f |= FLAG_SEND_FUA;
        }
        if (structured) f |= FLAG_SEND_DF;
        return f;
    }

    /** The preferred block size: minimum_io_size when it is a power of two, else the physical block. */
    static int preferredBlock(QueueLimits limits, int minBlock) {
        long p = limits.physicalBlockSize();
        long ioMin = limits.ioMin();
        if (ioMin > p && Long.bitCount(ioMin) == 1) p = ioMin;
        p = Math.max(p, Math.max(minBlock, Units.SECTOR_SIZE));
        return (int) Math.min(p, MAX_PAYLOAD);
    }

    private boolean optionError(int option, int error, String message) throws IOException {
        LOG.debug("{}: {} refused: {}", peer, Nbd.optionName(option), message);
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        optionReply(option, error, ByteBuffer.wrap(m));
        return false;
    }

    private void optionReply(int option, int type, ByteBuffer data) throws IOException {
        int length = data == null ? 0 : data.remaining();
        ByteBuffer h = ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(length).flip();
        if (data == null) send(h);
        else send(h, data);
    }

    /** An NBD string: UTF-8 without NUL, at most 4096 bytes; null when it is not one. */
    private static String string(ByteBuffer data, int length) {
        ByteBuffer slice = data.slice(data.position(), length);
        data.position(data.position() + length);
        if (length > MAX_STRING) return null;
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(slice).toString();
            return s.indexOf('\0') >= 0 ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- transmission

    /** One request as it arrived. */
    private record Request(int flags, int type, long handle, long offset, long length) {
        boolean fua() {
            return (flags & CMD_FLAG_FUA) != 0;
        }
    }

    private void transmission() throws IOException, InterruptedException {
        reader = Thread.currentThread();
        ByteBuffer header = ByteBuffer.allocate(28);
        try {
            while (true) {
                header.clear();
                if (!readOrEof(header)) break; // the client closed: finish what is in flight
                header.flip();
                int magic = header.getInt();
                if (magic != REQUEST_MAGIC) throw new ProtocolError(String.format("bad request magic 0x%08x", magic));
                Request r = new Request(Short.toUnsignedInt(header.getShort()), Short.toUnsignedInt(header.getShort()), header.getLong(),
                        header.getLong(), Integer.toUnsignedLong(header.getInt()));
                if (r.type() == CMD_DISC) {
                    LOG.debug("{}: NBD_CMD_DISC", peer);
                    break;
                }
                Refusal refusal = check(r);
                if (r.type() == CMD_WRITE) {
                    if (refusal != null) {
                        skip(r.length()); // stay in step with the client; nothing is written
                        reply(r, refusal.error(), refusal.message(), null);
                        continue;
                    }
                    int n = (int) r.length();
                    requests.acquire();
                    bytes.acquire(n);
                    MemorySegment buf = null;
                    try {
                        buf = payloads.take(Math.max(n, 1));
                        readFully(buf.asByteBuffer().limit(n)); // all of it, or nothing is written
                    } catch (IOException | RuntimeException e) {
                        payloads.give(buf);
                        bytes.release(n);
                        requests.release();
                        throw e;
                    }
                    start(r, buf, n);
                } else if (refusal != null) {
                    reply(r, refusal.error(), refusal.message(), null);
                } else {
                    int n = r.type() == CMD_READ ? (int) r.length() : 0;
                    requests.acquire();
                    bytes.acquire(n);
                    start(r, null, n);
                }
            }
        } finally {
            // Replies to what is in flight still go out (a DISC, a half-closed socket, a stop).
            requests.acquire(MAX_REQUESTS);
            requests.release(MAX_REQUESTS);
        }
    }

    /**
     * Starts a checked request. A READ or WRITE whose device is there is submitted from the
     * reader itself: bios complete asynchronously, so the reader never waits for one, and a bio
     * that completes at once (a RAM disk) is answered at once, on the reader, with no thread in
     * between. Everything else (a device that is away, FLUSH, TRIM, WRITE_ZEROES, a FUA write
     * that needs a flush after it) may wait, so it runs on a virtual thread of its own.
     */
    private void start(Request r, MemorySegment payload, int budget) {
        BlockDevice d = export.device();
        if (d == null || export.isShutdown() || r.length() == 0 || !(r.type() == CMD_READ || r.type() == CMD_WRITE)
                || (r.type() == CMD_WRITE && r.fua() && d.writeCache() && !d.fua())) {
            dispatch(r, payload, budget);
            return;
        }
        new InFlight(r, payload, budget).submit(d);
    }

    /**
     * A READ or WRITE submitted from the reader: its bios (split at max_sectors, all in flight
     * at once) and what the reply needs. The last bio to complete sends the reply: on the reader
     * when that is where it completed, else on a new virtual thread, so a completing thread that
     * is not ours (a mapped device letting held bios go) never waits for this client's socket.
     */
    private final class InFlight {
        private final Request r;
        private final MemorySegment pooled; // the WRITE payload or the READ buffer, back to the pool when done
        private final MemorySegment data;
        private final int budget;
        private AtomicInteger remaining;
        private BlkStatus[] statuses;

        InFlight(Request r, MemorySegment payload, int budget) {
            this.r = r;
            this.budget = budget;
            this.pooled = payload != null ? payload : payloads.take(r.length());
            this.data = pooled.asSlice(0, r.length());
        }

        void submit(BlockDevice d) {
            boolean write = r.type() == CMD_WRITE;
            boolean fua = write && r.fua() && d.writeCache() && d.fua();
            long sector = r.offset() >>> Units.SECTOR_SHIFT;
            long max = maxBytes(d);
            long length = data.byteSize();
            int parts = (int) ((length + max - 1) / max);
            statuses = new BlkStatus[parts];
            remaining = new AtomicInteger(parts);
            for (int i = 0; i < parts; i++) {
                long off = i * max;
                MemorySegment part = parts == 1 ? data : data.asSlice(off, Math.min(max, length - off));
                long s = sector + (off >>> Units.SECTOR_SHIFT);
                Bio bio = write ? (fua ? Bio.write(s, part, BioFlag.FUA) : Bio.write(s, part)) : Bio.read(s, part);
                int index = i;
                try {
                    d.submit(bio);
                } catch (RuntimeException e) {
                    LOG.error("{}: {} failed", peer, Nbd.commandName(r.type()), e);
                    bio.endio(BlkStatus.ioerr("internal error: " + e)); // no-op when the bio had already ended
                }
                bio.completion().whenComplete((status, failure) -> partDone(index, failure == null ? status
                        : BlkStatus.ioerr(Nbd.commandName(r.type()) + ": " + failure)));
            }
        }

        private void partDone(int index, BlkStatus status) {
            statuses[index] = status;
            if (remaining.decrementAndGet() != 0) return;
            if (Thread.currentThread() == reader) finish();
            else Thread.ofVirtual().name("nbd-reply").start(this::finish);
        }

        /** Replies (the first failed part's error, in the order of the parts) and lets go of the request's resources. */
        private void finish() {
            try {
                BlkStatus s = BlkStatus.OK;
                for (BlkStatus st : statuses) {
                    if (!st.isOk()) {
                        s = st;
                        break;
                    }
                }
                BlkStatus status = s;
                trySend(() -> {
                    if (status.isOk()) reply(r, 0, null, r.type() == CMD_READ ? data.asByteBuffer() : null);
                    else reply(r, errno(status), Nbd.commandName(r.type()) + ": " + status.message(), null);
                });
            } catch (RuntimeException e) {
                LOG.error("{}: {} failed", peer, Nbd.commandName(r.type()), e);
            } finally {
                release();
            }
        }

        private void release() {
            payloads.give(pooled);
            bytes.release(budget);
            requests.release();
        }
    }

    /**
     * Runs a request on its own virtual thread. {@code payload} is a WRITE's pooled buffer (its
     * first {@code r.length()} bytes are the data); it goes back to the pool when the request is done.
     */
    private void dispatch(Request r, MemorySegment payload, int budget) {
        Thread.ofVirtual().name("nbd-request").start(() -> {
            try {
                execute(r, payload == null ? null : payload.asSlice(0, r.length()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.error("{}: {} failed", peer, Nbd.commandName(r.type()), e);
                trySend(() -> reply(r, EIO, "internal error: " + e, null));
            } finally {
                payloads.give(payload);
                bytes.release(budget);
                requests.release();
            }
        });
    }

    /** Why a request cannot be done: the protocol's error code and a sentence. */
    record Refusal(int error, String message) {}

    /**
     * Why a request cannot be done, before any device sees it, or null. The checks go in this
     * order: command, flags, read-only (EPERM), size limit, alignment, range (ENOSPC for writes,
     * EINVAL otherwise, as the spec asks); everything else is EINVAL.
     */
    private Refusal check(Request r) {
        String cmd = Nbd.commandName(r.type());
        int allowed;
        switch (r.type()) {
            case CMD_READ -> allowed = (flags & FLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA | CMD_FLAG_DF : CMD_FLAG_DF;
            case CMD_WRITE, CMD_TRIM, CMD_FLUSH -> allowed = (flags & FLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA : 0;
            case CMD_WRITE_ZEROES -> allowed = ((flags & FLAG_SEND_FUA) != 0 ? CMD_FLAG_FUA : 0) | CMD_FLAG_NO_HOLE;
            default -> {
                return new Refusal(EINVAL, "unknown command " + r.type());
            }
        }
        if (!structured) allowed &= ~CMD_FLAG_DF;
        if ((r.flags() & ~allowed) != 0) return new Refusal(EINVAL, String.format("%s: unsupported flags 0x%x", cmd, r.flags() & ~allowed));
        boolean write = r.type() == CMD_WRITE || r.type() == CMD_TRIM || r.type() == CMD_WRITE_ZEROES;
        if (write && export.readOnly()) return new Refusal(EPERM, cmd + ": export '" + export.name() + "' is read-only");
        if (r.type() == CMD_FLUSH) {
            return r.offset() == 0 && r.length() == 0 ? null : new Refusal(EINVAL, "NBD_CMD_FLUSH: offset and length must be zero");
        }
        if ((r.type() == CMD_READ || r.type() == CMD_WRITE) && r.length() > MAX_PAYLOAD) {
            return new Refusal(EINVAL, cmd + ": length " + r.length() + " is over the maximum of " + MAX_PAYLOAD);
        }
        if ((r.offset() & (minBlock - 1)) != 0 || (r.length() & (minBlock - 1)) != 0) {
            return new Refusal(EINVAL, cmd + ": offset " + Long.toUnsignedString(r.offset()) + " length " + r.length()
                    + " is not aligned to the block size " + minBlock);
        }
        if (r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
            boolean grows = r.type() == CMD_WRITE || r.type() == CMD_WRITE_ZEROES;
            return new Refusal(grows ? ENOSPC : EINVAL, cmd + ": offset " + Long.toUnsignedString(r.offset()) + " length " + r.length()
                    + " is beyond the end of the export (" + size + " bytes)");
        }
        return null;
    }

    /** Runs a checked request on its own thread and replies. */
    private void execute(Request r, MemorySegment data) throws InterruptedException {
        if (r.length() == 0 && r.type() != CMD_FLUSH) {
            trySend(() -> reply(r, 0, null, r.type() == CMD_READ ? ByteBuffer.allocate(0) : null));
            return;
        }
        BlockDevice d = export.await(holdNanos);
        if (d == null) {
            boolean stopping = export.isShutdown();
            String why = stopping ? "the server is shutting down" : "device " + export.spec.device() + " did not come back";
            trySend(() -> reply(r, stopping ? ESHUTDOWN : EIO, Nbd.commandName(r.type()) + ": " + why, null));
            return;
        }
        long sector = r.offset() >>> Units.SECTOR_SHIFT;
        boolean fua = r.fua() && d.writeCache() && r.type() != CMD_READ && r.type() != CMD_FLUSH;
        BlkStatus status;
        MemorySegment readBuffer = null;
        MemorySegment pooled = null;
        switch (r.type()) {
            case CMD_READ -> {
                pooled = payloads.take(r.length());
                readBuffer = pooled.asSlice(0, r.length());
                status = split(d, readBuffer, sector, false, false);
            }
            case CMD_WRITE -> {
                status = split(d, data, sector, true, fua && d.fua());
                if (fua && !d.fua()) status = andThen(status, d, Bio.flush());
            }
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
        BlkStatus s = status;
        MemorySegment rb = readBuffer;
        try {
            trySend(() -> {
                if (s.isOk()) reply(r, 0, null, rb == null ? null : rb.asByteBuffer());
                else reply(r, errno(s), Nbd.commandName(r.type()) + ": " + s.message(), null);
            });
        } finally {
            payloads.give(pooled); // the reply has been written (or the client is gone)
        }
    }

    private static int errno(BlkStatus s) {
        return switch (s.code()) {
            case OK -> 0;
            case IOERR -> EIO;
            case INVAL, NOTSUPP -> EINVAL;
        };
    }

    private static BlkStatus run(BlockDevice d, Bio bio) {
        d.submit(bio);
        return bio.await();
    }

    private static BlkStatus andThen(BlkStatus first, BlockDevice d, Bio next) {
        return first.isOk() ? run(d, next) : first;
    }

    /**
     * READ or WRITE of {@code buf} at {@code sector}, split at the device's max_sectors as the
     * block layer splits a bio; all parts are in flight at once and the first error wins.
     */
    private static BlkStatus split(BlockDevice d, MemorySegment buf, long sector, boolean write, boolean fua) {
        long max = maxBytes(d);
        List<Bio> bios = new ArrayList<>();
        for (long off = 0; off < buf.byteSize(); off += max) {
            MemorySegment part = buf.asSlice(off, Math.min(max, buf.byteSize() - off));
            long s = sector + (off >>> Units.SECTOR_SHIFT);
            Bio bio = write ? (fua ? Bio.write(s, part, BioFlag.FUA) : Bio.write(s, part)) : Bio.read(s, part);
            bios.add(bio);
            d.submit(bio);
        }
        BlkStatus result = BlkStatus.OK;
        for (Bio bio : bios) {
            BlkStatus s = bio.await();
            if (result.isOk() && !s.isOk()) result = s;
        }
        return result;
    }

    private static long maxBytes(BlockDevice d) {
        QueueLimits l = d.limits();
        long max = Math.min(l.maxSectors(), (long) MAX_PAYLOAD >>> Units.SECTOR_SHIFT) << Units.SECTOR_SHIFT;
        max &= -(long) l.logicalBlockSize();
        return Math.max(max, l.logicalBlockSize());
    }

    private static BlkStatus writeZeroPages(BlockDevice d, long sector, long length, boolean fua) {
        long chunk = Math.min(ZEROES.byteSize(), maxBytes(d));
        chunk = Math.max(chunk & -(long) d.limits().logicalBlockSize(), d.limits().logicalBlockSize());
        for (long off = 0; off < length; off += chunk) {
            long n = Math.min(chunk, length - off);
            MemorySegment zeroes = n <= ZEROES.byteSize() ? ZEROES.asSlice(0, n) : Arena.ofAuto().allocate(n);
            long s = sector + (off >>> Units.SECTOR_SHIFT);
            BlkStatus st = run(d, fua ? Bio.write(s, zeroes, BioFlag.FUA) : Bio.write(s, zeroes));
            if (!st.isOk()) return st;
        }
        return BlkStatus.OK;
    }

    // ---------------------------------------------------------------- replies

    private interface Send {
        void run() throws IOException;
    }

    /** Sends a reply; a client that is gone is not an error of the request's. */
    private void trySend(Send send) {
        if (sendFailed) return;
        try {
            send.run();
        } catch (IOException e) {
            sendFailed = true;
            LOG.debug("{}: reply not sent: {}", peer, e.toString());
            close();
        }
    }

    /**
     * Replies to a request: a simple reply, or with structured replies negotiated, a chunk for
     * read data and for errors (so the message reaches the client).
     */
    private void reply(Request r, int error, String message, ByteBuffer data) throws IOException {
        if (error != 0) LOG.debug("{}: {} handle {} failed with {}: {}", peer, Nbd.commandName(r.type()), r.handle(), error, message);
        if (!structured) {
            ByteBuffer h = ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(r.handle()).flip();
            if (error == 0 && data != null) send(h, data);
            else send(h);
            return;
        }
        if (error != 0) {
            byte[] m = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
            int ml = Math.min(m.length, MAX_STRING);
            ByteBuffer b = ByteBuffer.allocate(20 + 6 + ml).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_ERROR).putLong(r.handle()).putInt(6 + ml).putInt(error).putShort((short) ml).put(m, 0, ml).flip();
            send(b);
        } else if (data != null && data.hasRemaining()) {
            ByteBuffer h = ByteBuffer.allocate(28).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_OFFSET_DATA).putLong(r.handle()).putInt(8 + data.remaining()).putLong(r.offset()).flip();
            send(h, data);
        } else if (r.type() == CMD_READ) {
            ByteBuffer h = ByteBuffer.allocate(20).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_NONE).putLong(r.handle()).putInt(0).flip();
            send(h);
        } else {
            send(ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.handle()).flip());
        }
    }

    // ---------------------------------------------------------------- socket helpers

    private void send(ByteBuffer... buffers) throws IOException {
        sendLock.lock();
        try {
            long left = 0;
            for (ByteBuffer b : buffers) left += b.remaining();
            while (left > 0) left -= channel.write(buffers);
        } finally {
            sendLock.unlock();
        }
    }

    private ByteBuffer readBuffer(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(b);
        return b.flip();
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) throw new EOFException("end of stream with " + b.remaining() + " bytes still expected");
        }
    }

    /** Reads a whole buffer; false on a clean end of stream before its first byte. */
    private boolean readOrEof(ByteBuffer b) throws IOException {
        if (channel.read(b) < 0) return false;
        readFully(b);
        return true;
    }

    private void skip(long n) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(n, 1 << 16));
        while (n > 0) {
            scratch.clear().limit((int) Math.min(n, scratch.capacity()));
            readFully(scratch);
            n -= scratch.limit();
        }
    }
}
