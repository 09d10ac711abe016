package org.dmstack.nbd;

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
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An NBD server (fixed newstyle) for block devices. Plain Java:
 *
 * <pre>{@code
 * try (NbdServer server = NbdServer.builder()
 *         .registry(registry)                 // follow devices as they come and go
 *         .export("disk=ram0")                // none: every device under its own name
 *         .export("golden=pmem0:ro")
 *         .port(10809)                        // 0: any free port, see port()
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>It listens on 127.0.0.1 unless told otherwise. Each client gets a platform thread of its
 * own that reads its requests and answers those its device completes at once; requests that
 * may wait run on virtual threads, so one client's slow device or slow network never holds up
 * another.
 * Requests for an export whose device is away (a driver being updated) wait for it, up to the
 * hold timeout.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NbdServer.class);

    /** The port IANA gave NBD. */
    public static final int DEFAULT_PORT = 10809;
    /** How long requests wait for a device that went away, unless configured. */
    public static final Duration DEFAULT_HOLD_TIMEOUT = Duration.ofSeconds(60);
    /** How long {@link #close} lets requests in flight finish before it cuts connections. */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(5);

    private final ExportTable exports;
    private final ServerSocketChannel listener;
    private final long holdNanos;
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private final InetSocketAddress bound;
    private volatile boolean closed;

    private NbdServer(ExportTable exports, InetSocketAddress address, Duration holdTimeout) throws IOException {
        this.exports = exports;
        this.holdNanos = holdTimeout.toNanos();
        ServerSocketChannel ch = ServerSocketChannel.open();
        try {
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            ch.bind(address);
        } catch (IOException e) {
            ch.close();
            throw new IOException("Cannot listen on " + address + ": " + e.getMessage(), e);
        }
        this.listener = ch;
        this.bound = (InetSocketAddress) ch.getLocalAddress();
        exports.open();
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
        private BlockDeviceRegistry registry;
        private final List<ExportSpec> specs = new ArrayList<>();
        private final Map<ExportSpec, BlockDevice> devices = new LinkedHashMap<>();
        private Duration holdTimeout = DEFAULT_HOLD_TIMEOUT;

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

        /** Serve devices from this registry, following them as they come and go. */
        public Builder registry(BlockDeviceRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** An export of a registry device; see {@link ExportSpec#parse} for the form. */
        public Builder export(String spec) {
            return export(ExportSpec.parse(spec));
        }

        public Builder export(ExportSpec spec) {
            specs.add(Objects.requireNonNull(spec, "spec"));
            return this;
        }

        /** Exports of registry devices, each {@code name=device[:ro]}. */
        public Builder exports(Iterable<String> specs) {
            for (String s : specs) export(s);
            return this;
        }

        /** A fixed device (no registry needed), exported under {@code name}. */
        public Builder device(String name, BlockDevice device, boolean readOnly) {
            devices.put(new ExportSpec(name, device.name(), readOnly), Objects.requireNonNull(device, "device"));
            return this;
        }

        /** How long requests wait for a device that went away before they fail with EIO. */
        public Builder holdTimeout(Duration timeout) {
            if (timeout.isNegative()) throw new IllegalArgumentException("Negative hold timeout " + timeout);
            this.holdTimeout = timeout;
            return this;
        }

        /**
         * Starts listening. With a registry, the exports are the specs given (or every device when
         * none is); without one, the fixed devices.
         *
         * @throws IOException when the address cannot be bound
         * @throws IllegalArgumentException when the exports are inconsistent
         */
        public NbdServer start() throws IOException {
            ExportTable table;
            if (registry != null) {
                if (!devices.isEmpty()) throw new IllegalArgumentException("Give either a registry or fixed devices, not both");
                table = ExportTable.following(registry, specs);
            } else {
                if (!specs.isEmpty()) throw new IllegalArgumentException("Exports " + specs + " name registry devices, but no registry was given");
                if (devices.isEmpty()) throw new IllegalArgumentException("Nothing to export: give a registry or devices");
                table = ExportTable.fixed(devices);
            }
            return new NbdServer(table, new InetSocketAddress(address, port), holdTimeout);
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
            Connection c = new Connection(ch, exports, holdNanos);
            connections.add(c);
            // A platform thread: it blocks in the kernel for the next request and for a reply that
            // does not fit the socket buffer at once, where a virtual thread parks and is woken by
            // the poller, a hand-off each time (about 20 us a request at queue depth 1 here).
            Thread t = Thread.ofPlatform().daemon().name("nbd-connection").unstarted(() -> {
                try {
                    c.run();
                } finally {
                    connections.remove(c);
                    threads.remove(Thread.currentThread());
                }
            });
            threads.add(t);
            t.start();
            if (closed) c.shutdownInput();
        }
    }

    /** Where the server listens (with the real port when 0 was asked for). */
    public InetSocketAddress localAddress() {
        return bound;
    }

    public int port() {
        return localAddress().getPort();
    }

    /** The names clients can connect to now (exports whose device is there). */
    public List<String> exportNames() {
        return exports.available().stream().map(Export::name).toList();
    }

    /** Every configured export, as {@code name=device[:ro]}, whether its device is there or not. */
    public List<ExportSpec> exports() {
        return exports.all().stream().map(e -> e.spec).toList();
    }

    /** Requests waiting now for a device that went away. */
    int heldRequests() {
        return exports.all().stream().mapToInt(Export::waiting).sum();
    }

    /** Number of clients connected now. */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Stops: no new clients; connected clients' requests in flight get their replies (for up
     * to a few seconds), then every connection is closed.
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
        for (Thread t : List.copyOf(threads)) {
            long left = deadline - System.nanoTime();
            try {
                if (left <= 0 || !t.join(Duration.ofNanos(left))) break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Connection c : connections) c.close();
        try {
            acceptor.join(CLOSE_GRACE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("NBD server on {} stopped", bound);
    }
}
