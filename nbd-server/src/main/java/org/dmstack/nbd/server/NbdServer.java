package org.dmstack.nbd.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.nbd.protocol.Nbd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle) for {@link Backend}s. Plain Java:
 *
 * <pre>{@code
 * try (NbdServer server = NbdServer.builder()
 *         .backends(backends)                 // follow them as they come and go
 *         .export("disk=ram0")                // none: every source under its own name
 *         .export("golden=pmem0:ro")
 *         .port(10809)                        // 0: any free port, see port()
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>It listens on 127.0.0.1 unless told otherwise. A client has {@link #DEFAULT_HANDSHAKE_TIMEOUT}
 * to pick an export; then a platform thread of its own (one an earlier connection left, if one is
 * idle, which then runs the handshake too) reads its requests and answers those its device completes at once, and requests that may wait run on virtual
 * threads, so one client's slow device or slow network never holds up another. At most
 * {@link #DEFAULT_MAX_CONNECTIONS} clients are served at once; one more is told so in the
 * handshake. Requests for an export whose backend is away (a driver, or core, being updated)
 * wait for it, up to the hold timeout; so does a client choosing an export while there are no
 * {@link Backends} at all.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    /** The port IANA gave NBD. */
    public static final int DEFAULT_PORT = 10809;
    /** How long requests wait for a backend that went away, unless configured. */
    public static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofSeconds(60);
    /** How long a client has to choose an export, unless configured (qemu-nbd's --handshake-limit). */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    /** Clients served at once, unless configured. */
    public static final int DEFAULT_MAX_CONNECTIONS = 256;
    /** Connections the kernel queues before they are accepted (nbdkit listens with SOMAXCONN). */
    public static final int DEFAULT_BACKLOG = 4096;
    /** Payload bytes one connection may have in flight, replies not yet sent included, unless configured. */
    public static final int DEFAULT_MAX_INFLIGHT_BYTES = Nbd.MAX_PAYLOAD;
    /** How long a connection's reader may poll for the next request before it blocks, unless configured ({@link BusyPoll}). */
    public static final long DEFAULT_BUSY_POLL_MICROS = 50;
    /** Options a client may send before it chooses an export, unless configured (nbdkit's MAX_NR_OPTIONS); more after NBD_OPT_LIST. */
    public static final int DEFAULT_MAX_OPTIONS = 32;
    /** How long {@link #close} lets requests in flight finish before it cuts connections. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);
    /**
     * How often connections in the handshake are checked against the handshake timeout: a tenth
     * of it, within these bounds. One periodic check instead of a timer set and cancelled per
     * connection, which woke the timer thread twice for every client that came and went.
     */
    static final Duration HANDSHAKE_SWEEP_MIN = Duration.ofMillis(10), HANDSHAKE_SWEEP_MAX = Duration.ofSeconds(1);
    /**
     * How long a connection with nothing in flight keeps the payload buffers of its past requests
     * for its next ones. Then they go (to the spare pool, or unmapped): a client that wrote 32 MiB
     * once and then idles does not keep 32 MiB resident, nor do 256 of them 8 GiB.
     */
    static final Duration QUIET_BUFFERS = Duration.ofSeconds(1);
    /** How long a transmission thread waits for the next connection before it ends. */
    static final Duration TRANSMITTER_KEEP_ALIVE = Duration.ofSeconds(1);
    /**
     * Payload and read-ahead buffers the server keeps from ended connections for the next ones
     * (see {@link PayloadPool}); beyond this they are unmapped when their connection ends.
     */
    public static final long SPARE_BUFFER_BYTES = 4L << 20;

    private final ExportTable exports;
    private final ServerSocketChannel listener;
    private final Limits limits;
    private final int maxConnections;
    private final ScheduledThreadPoolExecutor timer;
    private final ThreadPoolExecutor transmitters;
    private final PayloadPool spare = new PayloadPool(SPARE_BUFFER_BYTES);
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger refusing = new AtomicInteger();
    private final AtomicLong virtualHandshakes = new AtomicLong();
    private final AtomicBoolean full = new AtomicBoolean();
    /** Every session not over yet, refused ones included: {@link #close} waits for them. */
    private final Set<Connection> sessions = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private final InetSocketAddress bound;
    private volatile boolean closed;

    private NbdServer(ExportTable exports, InetSocketAddress address, int backlog, int maxConnections, Limits limits) throws IOException {
        this.exports = exports;
        this.limits = limits;
        this.maxConnections = maxConnections;
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(address, backlog);
        } catch (IOException e) {
            ch.close();
            throw new IOException("Cannot listen on " + address + ": " + e.getMessage(), e);
        }
        this.listener = ch;
        this.bound = (InetSocketAddress) ch.getLocalAddress();
        this.timer = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon().name("nbd-timer").factory());
        timer.setRemoveOnCancelPolicy(true);
        timer.prestartCoreThread();
        if (limits.handshakeNanos() > 0) {
            long every = Math.clamp(limits.handshakeNanos() / 10, HANDSHAKE_SWEEP_MIN.toNanos(), HANDSHAKE_SWEEP_MAX.toNanos());
            timer.scheduleWithFixedDelay(this::expireHandshakes, every, every, TimeUnit.NANOSECONDS);
        }
        long quiet = QUIET_BUFFERS.toNanos();
        timer.scheduleWithFixedDelay(() -> trimQuiet(quiet), quiet, quiet, TimeUnit.NANOSECONDS);
        // A transmission thread outlives its connection for a moment, so that clients which
        // connect again and again (health checks, probers: hundreds a second) take a thread that
        // is there instead of starting one each. A thread per connection cost more than its
        // clone(2): the JVM gives every new thread an allocation buffer (TLAB) sized for a
        // long-lived allocator, and a thread that ends after a few requests throws most of it
        // away — 600 MB/s of heap at 700 connections a second, a young collection every 0.4 s.
        // The connection limit bounds the threads; idle ones end after the keep-alive.
        this.transmitters = new ThreadPoolExecutor(0, Integer.MAX_VALUE, TRANSMITTER_KEEP_ALIVE.toNanos(), TimeUnit.NANOSECONDS,
                new SynchronousQueue<>(), Thread.ofPlatform().daemon().name("nbd-connection").factory());
        for (Export e : exports.all()) {
            if (e.backend() == null && exports.hasBackends()) {
                LOG.warn("NBD export '{}': no device '{}'; it is offered once that device appears", e.name(), e.spec.device());
            }
        }
        this.acceptor = Thread.ofPlatform().name("nbd-accept " + localAddress()).daemon().start(this::acceptLoop);
        LOG.info("NBD server listening on {} with exports {}", localAddress(), exportNames());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What to serve and where. */
    public static final class Builder {
        private InetAddress address = InetAddress.getLoopbackAddress();
        private int port = DEFAULT_PORT;
        private boolean following;
        private Backends backends;
        private final List<ExportSpec> specs = new ArrayList<>();
        private final Map<ExportSpec, Backend> devices = new LinkedHashMap<>();
        private Duration holdTimeout = DEFAULT_HOLD_TIMEOUT;
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration idleTimeout = Duration.ZERO;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;
        private int backlog = DEFAULT_BACKLOG;
        private int maxInflightBytes = DEFAULT_MAX_INFLIGHT_BYTES;
        private Duration busyPoll = Duration.ofNanos(DEFAULT_BUSY_POLL_MICROS * 1000);
        private int maxOptions = DEFAULT_MAX_OPTIONS;

        private Builder() {}

        /** The address to listen on; 127.0.0.1 unless set. "0.0.0.0" listens on every interface. */
        public Builder address(String host) throws UnknownHostException {
            this.address = InetAddress.getByName(Objects.requireNonNull(host, "host"));
            return this;
        }

        public Builder address(InetAddress address) {
            this.address = Objects.requireNonNull(address, "address");
            return this;
        }

        /** The TCP port; 0 for any free one (see {@link NbdServer#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) throw new IllegalArgumentException("Invalid port " + port);
            this.port = port;
            return this;
        }

        /**
         * Serve what {@code backends} finds, following backends as they come and go; null: none
         * yet, every export away until {@link NbdServer#backends} gives them.
         */
        public Builder backends(Backends backends) {
            this.following = true;
            this.backends = backends;
            return this;
        }

        /** An export of a source of the backends; see {@link ExportSpec#parse} for the form. */
        public Builder export(String spec) {
            return export(ExportSpec.parse(spec));
        }

        public Builder export(ExportSpec spec) {
            specs.add(Objects.requireNonNull(spec, "spec"));
            return this;
        }

        /** Exports of sources of the backends, each {@code name=device[:ro]}. */
        public Builder exports(Iterable<String> specs) {
            for (String s : specs) export(s);
            return this;
        }

        /** A fixed backend (no {@link Backends} needed), exported under {@code name}. */
        public Builder device(String name, Backend backend, boolean readOnly) {
            devices.put(new ExportSpec(name, backend.description(), readOnly), Objects.requireNonNull(backend, "backend"));
            return this;
        }

        /**
         * How long requests wait for a backend that went away before they fail with EIO, and a
         * client choosing an export waits while there are no backends at all.
         */
        public Builder holdTimeout(Duration timeout) {
            if (timeout.isNegative()) throw new IllegalArgumentException("Negative hold timeout " + timeout);
            this.holdTimeout = timeout;
            return this;
        }

        /** How long a client has from connecting to choosing an export; zero for ever. */
        public Builder handshakeTimeout(Duration timeout) {
            if (timeout.isNegative()) throw new IllegalArgumentException("Negative handshake timeout " + timeout);
            this.handshakeTimeout = timeout;
            return this;
        }

        /** How long a session may go without a request while nothing is in flight; zero (the default) for ever. */
        public Builder idleTimeout(Duration timeout) {
            if (timeout.isNegative()) throw new IllegalArgumentException("Negative idle timeout " + timeout);
            this.idleTimeout = timeout;
            return this;
        }

        /** How many clients are served at once; one more is refused in the handshake with a message. */
        public Builder maxConnections(int max) {
            if (max < 1) throw new IllegalArgumentException("Invalid connection limit " + max + "; at least 1");
            this.maxConnections = max;
            return this;
        }

        /** How many connections the kernel queues before they are accepted (capped by net.core.somaxconn). */
        public Builder backlog(int backlog) {
            if (backlog < 1) throw new IllegalArgumentException("Invalid backlog " + backlog + "; at least 1");
            this.backlog = backlog;
            return this;
        }

        /**
         * Payload bytes one connection may have in flight, replies not yet sent included; at the
         * limit the server stops reading that client's requests until replies go out. A request
         * larger than this (up to 32 MiB) is served alone.
         */
        public Builder maxInflightBytes(int bytes) {
            if (bytes < 4096) throw new IllegalArgumentException("Invalid in-flight limit " + bytes + " bytes; at least 4096");
            this.maxInflightBytes = bytes;
            return this;
        }

        /**
         * The longest a connection's reader polls its socket before it blocks, waiting for the
         * client's next request (as Linux's net.core.busy_read); the window adapts to the
         * client and is 0 while the client pauses. Zero: never poll.
         */
        public Builder busyPoll(Duration limit) {
            if (limit.isNegative()) throw new IllegalArgumentException("Negative busy poll " + limit);
            this.busyPoll = limit;
            return this;
        }

        /**
         * How many options a client may send in the handshake without choosing an export (as
         * many again for each export after its first NBD_OPT_LIST); one more is refused with
         * NBD_REP_ERR_POLICY and the client disconnected, as nbdkit does.
         */
        public Builder maxOptions(int max) {
            if (max < 1) throw new IllegalArgumentException("Invalid option limit " + max + "; at least 1");
            this.maxOptions = max;
            return this;
        }

        /**
         * Starts listening. Following backends, the exports are the specs given (or every source
         * when none is); else the fixed backends.
         *
         * @throws IOException when the address cannot be bound
         * @throws IllegalArgumentException when the exports are inconsistent
         */
        public NbdServer start() throws IOException {
            ExportTable table;
            if (following) {
                if (!devices.isEmpty()) throw new IllegalArgumentException("Give either backends to follow or fixed devices, not both");
                table = ExportTable.following(specs);
                table.backends(backends);
            } else {
                if (!specs.isEmpty()) throw new IllegalArgumentException("Exports " + specs + " name sources of backends, but no backends were given");
                if (devices.isEmpty()) throw new IllegalArgumentException("Nothing to export: give backends or devices");
                table = ExportTable.fixed(devices);
            }
            Limits limits = new Limits(holdTimeout.toNanos(), handshakeTimeout.toNanos(), idleTimeout.toNanos(), maxInflightBytes, busyPoll.toNanos(), maxOptions);
            return new NbdServer(table, new InetSocketAddress(address, port), backlog, maxConnections, limits);
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) return;
                LOG.warn("NBD accept failed: {}", e.toString());
                continue;
            }
            try {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            } catch (IOException e) {
                LOG.debug("TCP_NODELAY: {}", e.toString());
            }
            if (connections.size() < maxConnections) {
                if (full.compareAndSet(true, false)) LOG.info("NBD server on {}: below its limit of {} connections again", bound, maxConnections);
                Connection c = new Connection(ch, exports, limits, timer, transmitters, spare, null, this::servedEnded);
                connections.add(c);
                start(c);
                if (closed) c.close(); // accepted as the server began to stop, which may not have seen it
            } else if (refusing.incrementAndGet() <= maxConnections) {
                if (full.compareAndSet(false, true)) {
                    LOG.warn("NBD server on {}: {} clients connected, the limit (max.connections); refusing new ones", bound, maxConnections);
                }
                String why = "the server has its limit of " + maxConnections + " clients connected; try again later";
                Connection c = new Connection(ch, exports, limits, timer, transmitters, spare, why, this::refusedEnded);
                start(c);
                if (closed) c.close();
            } else {
                // Refusals are bounded too: beyond as many again, hang up at once.
                refusing.decrementAndGet();
                close(ch);
            }
        }
    }

    /**
     * Starts a connection: on a transmission thread that waits for one now, which then serves it
     * from the handshake to the end with the socket blocking all along; if none waits, the
     * handshake runs on a virtual thread of its own (see {@link Connection} for why), so that
     * clients which connect and say nothing never cost an operating-system thread each. Offering
     * to the pool's queue (a SynchronousQueue) succeeds only when an idle thread takes the task at
     * once, and never starts one.
     */
    private void start(Connection c) {
        sessions.add(c);
        if (transmitters.getQueue().offer(c)) return;
        virtualHandshakes.incrementAndGet();
        Thread.ofVirtual().name("nbd-handshake").start(c);
    }

    private void expireHandshakes() {
        long now = System.nanoTime();
        for (Connection c : sessions) c.expireHandshake(now);
    }

    private void trimQuiet(long quietNanos) {
        long now = System.nanoTime();
        for (Connection c : connections) c.trimIfQuiet(now, quietNanos);
    }

    private void servedEnded(Connection c) {
        connections.remove(c);
        sessions.remove(c);
    }

    private void refusedEnded(Connection c) {
        refusing.decrementAndGet();
        sessions.remove(c);
    }

    private static void close(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
    }

    /** Where the server listens (with the real port when 0 was asked for). */
    public InetSocketAddress localAddress() {
        return bound;
    }

    public int port() {
        return localAddress().getPort();
    }

    /**
     * Where backends come from from now on: in OSGi, the {@link Backends} service as it comes
     * and goes. Null: there are none now; every export is away, requests for it are held and
     * clients choosing one wait, each up to the hold timeout.
     */
    public void backends(Backends backends) {
        exports.backends(backends);
    }

    /** The names clients can connect to now (exports whose backend is there). */
    public List<String> exportNames() {
        return exports.available().stream().map(Export::name).toList();
    }

    /** Every configured export, as {@code name=device[:ro]}, whether its backend is there or not. */
    public List<ExportSpec> exports() {
        return exports.all().stream().map(e -> e.spec).toList();
    }

    /** Requests waiting now for a backend that went away. */
    public int heldRequests() {
        return exports.all().stream().mapToInt(Export::waiting).sum();
    }

    /** Number of clients connected now (refused ones not counted). */
    public int connectionCount() {
        return connections.size();
    }

    /** Connections so far whose handshake ran on a virtual thread: no transmission thread was waiting. */
    long virtualHandshakes() {
        return virtualHandshakes.get();
    }

    /** Buffers ended connections left that later ones have taken instead of mapping their own. */
    long spareBuffersReused() {
        return spare.lent();
    }

    /** Payload and read-ahead memory mapped now: connections' buffers, and those kept for the next connections (at most {@link #SPARE_BUFFER_BYTES}). */
    public long mappedBytes() {
        return connections.stream().mapToLong(Connection::mappedBytes).sum() + spare.mappedBytes();
    }

    /**
     * Stops: no new clients; connected clients' requests in flight get their replies, and clients
     * still in the handshake have their next option answered NBD_REP_ERR_SHUTDOWN (for up to a
     * few seconds, {@link #CLOSE_GRACE}), then every connection is closed.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            LOG.debug("close listener: {}", e.toString());
        }
        exports.close();
        for (Connection c : connections) c.shutdownInput();
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        for (Connection c : List.copyOf(sessions)) {
            long left = deadline - System.nanoTime();
            try {
                if (left <= 0 || !c.awaitEnd(left)) break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Connection c : sessions) c.close(); // refused ones too
        timer.shutdownNow();
        transmitters.shutdown();
        try {
            acceptor.join(CLOSE_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        spare.close(); // connections that end after this unmap their buffers themselves
        LOG.info("NBD server on {} stopped", bound);
    }
}
