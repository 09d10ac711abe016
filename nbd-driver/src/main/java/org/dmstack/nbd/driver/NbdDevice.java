package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.dmstack.block.BioFlag;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.IoAccounting;
import org.dmstack.block.QueueLimits;
import org.dmstack.nbd.socket.BlockingMode;
import org.dmstack.nbd.socket.LocalPacing;
import org.dmstack.units.Units;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One imported export, {@code nbdN} (43:N&lt;&lt;5, as Linux numbers nbd devices with 16
 * partitions each): a block device whose bios become NBD requests on one or more connections.
 *
 * <p>The device appears in the registry once the server has been reached, with the export's
 * size, the block sizes from NBD_INFO_BLOCK_SIZE and the flags the server advertised: read-only,
 * "write back" with a FLUSH exactly when the server takes NBD_CMD_FLUSH, FUA when it takes
 * NBD_CMD_FLAG_FUA (a FUA write to a server without it is followed by a flush), discard and
 * write-zeroes when it takes TRIM and WRITE_ZEROES. Bios are split at the server's maximum block
 * size. When the server allows several connections (CAN_MULTI_CONN), {@code connections} are
 * opened and requests go round them; otherwise one.
 *
 * <p>A broken connection does not fail bios: its unanswered requests are sent again on another
 * connection, or wait while a supervisor reconnects with backoff (50 ms doubling up to 2 s). A
 * request that has not been answered {@code timeout} after its trouble began fails with IOERR, as
 * dm fails I/O it held for a device that did not come back; a connection that answered requests
 * before it broke starts a new outage, a server that accepts connections but never answers
 * properly does not. A connection on which requests have waited {@code timeout} without any reply
 * is given up as broken too. A server's error reply is passed up with its errno.
 */
public final class NbdDevice implements AutoCloseable {
    /** Linux's NBD_MAJOR. */
    public static final int NBD_MAJOR = 43;
    /** Minors per device: Linux's nbd with its default max_part=16 (part_shift = fls(16) = 5). */
    public static final int PART_SHIFT = 5;
    /** Linux's max_hw_sectors for nbd (blk_queue_max_hw_sectors(q, 65536)): 32 MiB. */
    static final int MAX_HW_SECTORS = 65536;
    /** How big one TRIM may be (its length is 32 bits). */
    private static final long MAX_ZERO_BYTES = 1L << 30;
    private static final long MIN_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** How long a handshake may take before the connection attempt counts as failed. */
    private static final long HANDSHAKE_MILLIS = 10_000;
    /** How long close() lets requests in flight finish. */
    private static final long CLOSE_GRACE_MILLIS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(NbdDevice.class);

    private final String name;
    private final DevT devt;
    private final NbdDeviceConfig config;
    private final BlockDeviceRegistry registry;
    private final List<Connection> live = new CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Request> waiting = new ArrayDeque<>(); // guarded by lock
    private final AtomicInteger next = new AtomicInteger();
    private final Thread supervisor;
    private boolean closed; // guarded by lock
    // How connections ended since the supervisor last looked, guarded by lock: one that answered
    // requests means the server works and is worth reconnecting to at once; one that answered
    // nothing (a server that only sends garbage) counts as a failed attempt and backs off.
    private boolean brokeAfterAnswering;
    private int brokeUnanswered;
    // The server refused a connection while others were open (nbd-server's maxconnections, qemu-nbd's
    // --shared, nbdkit's limit filter): it has said how many it takes, so no more are asked for until
    // one of those ends, instead of knocking every two seconds for as long as the device lives.
    private boolean serverFull; // guarded by lock
    private volatile ExportInfo info; // from the first handshake: what the disk was made from
    private volatile boolean multiConn; // from the latest handshake
    private volatile GenDisk disk;
    /** What requests the removal leaves undone end with: their bios are handed back, not failed. */
    private final BlkStatus removal;
    private volatile long maxBytes; // the largest READ or WRITE request
    private volatile String lastError = "";
    private volatile SocketChannel connecting; // the channel of a connection attempt, closed by close()
    private long connects; // supervisor thread only

    NbdDevice(String name, DevT devt, NbdDeviceConfig config, BlockDeviceRegistry registry) {
        this.name = name;
        this.removal = BlkStatus.ioerr(name + ": device removed");
        this.devt = devt;
        this.config = config;
        this.registry = registry;
        this.supervisor = Thread.ofVirtual().name(name + " supervisor").unstarted(this::supervise);
    }

    void start() {
        supervisor.start();
    }

    public String name() {
        return name;
    }

    public DevT devt() {
        return devt;
    }

    public NbdDeviceConfig config() {
        return config;
    }

    /** The block device, or null until the server has been reached once. */
    public BlockDevice device() {
        return disk;
    }

    /** Connections open now. */
    public int connections() {
        return live.size();
    }

    /** Requests written on each open connection so far. */
    public List<Long> requestsPerConnection() {
        return live.stream().map(Connection::requestsSent).toList();
    }

    /** Why the last connection attempt or connection failed ("" when none has). */
    public String lastError() {
        return lastError;
    }

    // ---- the block device ----

    /** Called by GenDisk for every valid bio. */
    private void submitBio(Bio bio) {
        ExportInfo i = info;
        int type = switch (bio.op()) {
            case READ -> CMD_READ;
            case WRITE -> CMD_WRITE;
            case DISCARD -> i.trim() ? CMD_TRIM : -1;
            case WRITE_ZEROES -> i.writeZeroes() ? CMD_WRITE_ZEROES : -1;
            case FLUSH -> CMD_FLUSH;
        };
        if (type < 0) {
            bio.endio(BlkStatus.notsupp(name + ": the server does not support " + bio.op()));
            return;
        }
        if (bio.op().isWrite() && i.readOnly()) {
            bio.endio(BlkStatus.ioerr(name + ": Write on read-only"));
            return;
        }
        if (type == CMD_FLUSH) {
            issue(Request.flush(status -> end(bio, status)));
            return;
        }
        boolean fua = bio.hasFlag(BioFlag.FUA) && bio.op().isWrite();
        Runnable parts = () -> sendParts(bio, type, fua && i.sendFua(), fua && !i.sendFua());
        if (bio.hasFlag(BioFlag.PREFLUSH)) {
            issue(Request.flush(status -> {
                if (status.isOk()) parts.run();
                else end(bio, status);
            }));
        } else {
            parts.run();
        }
    }

    /** The bio as requests no larger than the server takes; the bio ends when all have. */
    private void sendParts(Bio bio, int type, boolean fua, boolean postflush) {
        // The spec holds READ, WRITE and WRITE_ZEROES to the maximum block size; only TRIM may be longer.
        long chunk = type == CMD_TRIM ? MAX_ZERO_BYTES : maxBytes;
        long size = bio.size();
        int count = (int) ((size + chunk - 1) / chunk);
        Parts parts = new Parts(bio, count, postflush);
        long base = bio.sector() << Units.SECTOR_SHIFT;
        for (long done = 0; done < size; done += chunk) {
            int len = (int) Math.min(chunk, size - done);
            issue(new Request(type, fua ? CMD_FLAG_FUA : 0, base + done, len, bio.data() == null ? null : bio.data().asSlice(done, len), parts::partDone));
        }
    }

    /** The requests of one bio: the first error wins; a FUA without server support ends with a flush. */
    private final class Parts {
        private final Bio bio;
        private final AtomicInteger remaining;
        private final boolean postflush;
        private volatile BlkStatus error;

        Parts(Bio bio, int count, boolean postflush) {
            this.bio = bio;
            this.remaining = new AtomicInteger(count);
            this.postflush = postflush;
        }

        void partDone(BlkStatus status) {
            if (!status.isOk() && error == null) error = status;
            if (remaining.decrementAndGet() != 0) return;
            BlkStatus e = error;
            if (e != null) end(bio, e);
            else if (postflush) issue(Request.flush(s -> end(bio, s)));
            else bio.endio(BlkStatus.OK);
        }
    }

    /**
     * Ends a bio, unless the removal of this device left it undone: then it is handed back
     * (GenDisk.handBack), so that a table holding this device resends it to the one that returns.
     */
    private void end(Bio bio, BlkStatus status) {
        GenDisk d = disk;
        if (status == removal && d != null) d.handBack(bio);
        else bio.endio(status);
    }

    /** Sends a request on the next open connection, or makes it wait for one. */
    private void issue(Request r) {
        if (offerToLive(r)) return;
        lock.lock();
        try {
            if (!closed) {
                if (!offerToLive(r)) hold(r); // a connection may have come while we looked
                return;
            }
        } finally {
            lock.unlock();
        }
        r.complete(removal);
    }

    private boolean offerToLive(Request r) {
        List<Connection> l = live;
        int n = l.size();
        if (n == 0) return false;
        int start = Math.floorMod(next.getAndIncrement(), n);
        for (int k = 0; k < n; k++) {
            try {
                if (l.get((start + k) % n).offer(r)) return true;
            } catch (IndexOutOfBoundsException e) {
                return false; // a connection left while we went round: let the caller decide under the lock
            }
        }
        return false;
    }

    /** Makes a request wait for a connection, with a deadline if it has none yet. Under the lock. */
    private void hold(Request r) {
        if (r.deadline == 0) r.deadline = System.nanoTime() + config.timeout().toNanos() | 1;
        waiting.add(r);
        changed.signalAll();
    }

    // ---- connections ----

    /** Called by a connection's receiver when it broke: its requests go elsewhere or wait. */
    private void broken(Connection c, List<Request> unfinished, IOException why) {
        List<Request> failed = new ArrayList<>();
        lock.lock();
        try {
            live.remove(c);
            serverFull = false;
            if (c.answered() > 0) brokeAfterAnswering = true;
            else brokeUnanswered++;
            if (!closed) {
                String reason = why == null ? "closed" : reason(why);
                lastError = "connection lost: " + reason;
                LOG.warn("{}: connection to {} lost ({}); {} request(s) will be sent again, I/O waits up to {} ms for the server",
                        name, config.uri(), reason, unfinished.size(), config.timeout().toMillis());
            }
            for (Request r : unfinished) {
                // After a connection that worked, a new outage gives the request a whole timeout again;
                // a connection that never answered anything (a server that only sends garbage) does not.
                if (c.answered() > 0) r.deadline = 0;
                if (closed) failed.add(r);
                else if (!offerToLive(r)) hold(r);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        // Completions run outside the lock: a bio's end may submit the next bio.
        for (Request r : failed) r.complete(removal);
    }

    private int wanted() {
        if (!multiConn) return 1;
        return serverFull ? Math.max(1, live.size()) : config.connections();
    }

    /** Connects, reconnects with backoff, and fails requests that waited too long. */
    private void supervise() {
        long backoff = 0;
        long nextAttempt = 0;
        boolean failing = false;
        while (true) {
            List<Request> expired = new ArrayList<>();
            boolean connect;
            lock.lock();
            try {
                if (closed) return;
                long now = System.nanoTime();
                if (brokeAfterAnswering) {
                    backoff = 0;
                    nextAttempt = now;
                }
                if (brokeUnanswered > 0) {
                    backoff = longer(backoff);
                    nextAttempt = now + backoff;
                }
                brokeAfterAnswering = false;
                brokeUnanswered = 0;
                long wake = expire(now, expired);
                if (!live.isEmpty()) wake = Math.min(wake, abandonStalled(now));
                connect = live.size() < wanted() && now - nextAttempt >= 0;
                if (!connect && expired.isEmpty()) {
                    if (live.size() < wanted()) wake = Math.min(wake, nextAttempt - now);
                    changed.awaitNanos(Math.max(wake, 1));
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            for (Request r : expired) {
                r.complete(BlkStatus.ioerr(name + ": no connection to " + config.uri() + " for " + config.timeout().toMillis() + " ms ("
                        + lastError + ")"));
            }
            if (!connect) continue;
            try {
                Connection c = connect();
                if (failing) LOG.info("{}: connected to {} again", name, config.uri());
                failing = false;
                nextAttempt = System.nanoTime(); // more connections, if wanted, at once
                attach(c);
            } catch (IOException e) {
                lastError = reason(e);
                if (isServerFull()) {
                    LOG.info("{}: {} takes no more connections ({}); going on with {}", name, config.uri(), lastError, live.size());
                    continue;
                }
                if (!failing && !isClosed()) LOG.warn("{}: cannot connect to {}: {} (retrying)", name, config.uri(), lastError);
                failing = true;
                backoff = longer(backoff);
                nextAttempt = System.nanoTime() + backoff;
            }
        }
    }

    /**
     * Gives up connections on which requests have waited {@code timeout} without any reply (a
     * server that stopped answering but keeps the connection, as a frozen process or a vanished
     * machine does); returns when to look again.
     */
    private long abandonStalled(long now) {
        long limit = config.timeout().toNanos();
        if (limit == 0) return Long.MAX_VALUE; // "no waiting at all" cannot mean "no time to answer"
        for (Connection c : live) {
            if (c.stalled(now, limit)) c.abort("no reply for " + config.timeout().toMillis() + " ms");
        }
        return Math.max(limit / 4, TimeUnit.MILLISECONDS.toNanos(10));
    }

    /** What went wrong, in words: the exception's message, or its name when it has none (a channel closed under a read). */
    private static String reason(IOException e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** After a failed attempt: whether it was one more than a server that serves the others would take. */
    private boolean isServerFull() {
        lock.lock();
        try {
            serverFull = !live.isEmpty();
            return serverFull;
        } finally {
            lock.unlock();
        }
    }

    private boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    private static long longer(long backoff) {
        return backoff == 0 ? MIN_BACKOFF_NANOS : Math.min(backoff * 2, MAX_BACKOFF_NANOS);
    }

    /** Takes out the requests past their deadline; returns how long until the next deadline. Under the lock. */
    private long expire(long now, List<Request> expired) {
        long wake = Long.MAX_VALUE;
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Request r = it.next();
            if (now - r.deadline >= 0) {
                it.remove();
                expired.add(r);
            } else {
                wake = Math.min(wake, r.deadline - now);
            }
        }
        return wake;
    }

    private Connection connect() throws IOException {
        NbdUri uri = config.uri();
        SocketChannel ch = uri.openChannel();
        connecting = ch;
        // A server that accepts and then says nothing must not stall the supervisor: the watchdog
        // closes the channel (0 running, 1 done, 2 timed out).
        AtomicInteger state = new AtomicInteger();
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(HANDSHAKE_MILLIS);
                if (state.compareAndSet(0, 2)) ch.close();
            } catch (InterruptedException | IOException e) {
                // the handshake ended first
            }
        });
        ExportInfo negotiated;
        try {
            if (uri.socket() == null) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            }
            ch.connect(uri.address());
            negotiated = Handshake.negotiate(ch, uri.export());
            if (!state.compareAndSet(0, 1)) throw new IOException("timed out");
        } catch (IOException | RuntimeException e) {
            ch.close();
            if (state.get() == 2) throw new IOException("no handshake within " + HANDSHAKE_MILLIS + " ms");
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        } finally {
            watchdog.interrupt();
            connecting = null;
        }
        if (uri.socket() == null) forTransmission(ch);
        multiConn = negotiated.multiConn();
        ExportInfo first = info;
        if (first != null && (first.size() != negotiated.size() || first.flags() != negotiated.flags())) {
            LOG.warn("{}: {} now has size {} and flags [{}]; the device keeps size {} and flags [{}]", name, config.uri(), negotiated.size(),
                    negotiated.flagNames(), first.size(), first.flagNames());
        }
        Connection c = new Connection(name, ch, negotiated, this::broken);
        c.start(name + " connection " + connects++);
        return c;
    }

    /**
     * Readies a negotiated TCP socket for its connection's platform threads: blocking again
     * ({@link BlockingMode}: the handshake ran on a virtual thread, which left it non-blocking, and
     * every read would then take three system calls), and without pacing when the server is on this
     * host ({@link LocalPacing}: under BBR, WRITE payloads would otherwise leave in timed pieces over
     * loopback). Where either cannot be done the socket works as it is, only slower.
     */
    private void forTransmission(SocketChannel ch) {
        try {
            if (!BlockingMode.restore(ch)) LOG.debug("{}: socket left non-blocking (its descriptor was not found)", name);
            if (!LocalPacing.onThisHost(ch.getLocalAddress(), ch.getRemoteAddress())) return;
            String now = LocalPacing.unpace(ch);
            if (now != null) LOG.debug("{}: a server on this host: TCP congestion control {} instead of a pacing one", name, now);
        } catch (IOException | RuntimeException e) {
            LOG.debug("{}: socket left as it was: {}", name, e.toString());
        }
    }

    /** A new connection takes the waiting requests; the first one ever makes the disk. */
    private void attach(Connection c) {
        boolean first = info == null;
        if (first) {
            info = c.info();
            disk = makeDisk(c.info());
            if (c.info().multiConn() || config.connections() == 1) {
                LOG.info("{}: {} bytes from {} [{}]", name, c.info().size(), config.uri(), c.info().flagNames());
            } else {
                LOG.info("{}: {} bytes from {} [{}]; the server does not allow several connections, so one is used instead of {}", name,
                        c.info().size(), config.uri(), c.info().flagNames(), config.connections());
            }
        }
        boolean removed;
        lock.lock();
        try {
            removed = closed;
            if (!removed) {
                live.add(c);
                Request r;
                while ((r = waiting.peek()) != null && c.offer(r)) waiting.poll();
            }
        } finally {
            lock.unlock();
        }
        if (removed) {
            c.close(0); // outside the lock: its receiver reports to broken(), which takes it
            return;
        }
        if (first) publish();
    }

    private void publish() {
        try {
            registry.add(disk);
        } catch (IllegalStateException e) {
            LOG.error("{}: {} (the export stays unused)", name, e.getMessage());
            close();
        }
    }

    private GenDisk makeDisk(ExportInfo i) {
        int logical = Math.max(Units.SECTOR_SIZE, i.minBlock());
        int physical = Math.max(logical, Math.min(i.preferredBlock(), Units.PAGE_SIZE));
        long maxBytes = Math.min(Integer.toUnsignedLong(i.maxBlock()), (long) MAX_HW_SECTORS << Units.SECTOR_SHIFT) & -(long) logical;
        QueueLimits limits = QueueLimits.of(logical, physical).setMaxSectors(maxBytes >> Units.SECTOR_SHIFT);
        this.maxBytes = maxBytes;
        if (i.preferredBlock() > physical) limits.setIoOpt(i.preferredBlock());
        // nbd_set_size: with NBD_FLAG_SEND_TRIM, discards of UINT_MAX sectors in blocks; without the limits the block layer refuses them.
        if (i.trim()) limits.setDiscard(QueueLimits.UNLIMITED, logical);
        if (i.writeZeroes()) limits.setMaxWriteZeroesSectors(QueueLimits.UNLIMITED);
        long sectors = (i.size() & -(long) logical) >> Units.SECTOR_SHIFT;
        // nbd is blk-mq: its queue starts with QUEUE_FLAG_IO_STAT (QUEUE_FLAG_MQ_DEFAULT), and requests count while it is set.
        // FUA counts only with FLUSH, as nbd_parse_flags sets the queue's write cache: without a cache there is nothing to force out.
        GenDisk d = GenDisk.builder(name, devt, sectors, this::submitBio).limits(limits).writeCache(i.sendFlush(), i.sendFlush() && i.sendFua())
                .accounting(IoAccounting.REQUESTS, true).build();
        // Read-only by the server's flag (nbd_parse_flags' set_disk_ro; writes then fail here with nbd's
        // "Write on read-only") or by the user's (blockdev --setro, which the disk itself refuses).
        d.attributes().define("ro", () -> i.readOnly() || d.readOnly() ? "1" : "0");
        d.attributes().define("backend", config.uri()::toString);
        d.attributes().define("nbd/flags", i::flagNames);
        d.attributes().define("nbd/connections", () -> Integer.toString(live.size()));
        d.attributes().define("nbd/timeout_ms", () -> Long.toString(config.timeout().toMillis()));
        return d;
    }

    /**
     * Removes the device: it leaves the registry, requests in flight get a few seconds to finish,
     * the connections say NBD_CMD_DISC, and whatever is left fails with IOERR.
     */
    @Override
    public void close() {
        GenDisk d = disk;
        if (d != null) {
            registry.remove(d);
            d.del();
        }
        List<Request> left;
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            left = new ArrayList<>(waiting);
            waiting.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Request r : left) r.complete(removal);
        SocketChannel attempt = connecting;
        if (attempt != null) {
            try {
                attempt.close(); // a server that does not answer must not hold up the removal
            } catch (IOException e) {
                // closed is all we wanted
            }
        }
        for (Connection c : live) c.close(CLOSE_GRACE_MILLIS);
        if (Thread.currentThread() != supervisor) {
            try {
                supervisor.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        ExportInfo i = info;
        return name + " " + devt + ": " + config.uri() + (i == null ? " (not connected yet: " + lastError + ")"
                : " " + i.size() + " bytes [" + i.flagNames() + "], " + live.size() + " connection(s)");
    }
}
