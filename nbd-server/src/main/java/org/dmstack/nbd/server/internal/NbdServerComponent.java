package org.dmstack.nbd.server.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.Map;
import org.dmstack.nbd.server.Backends;
import org.dmstack.nbd.server.NbdServer;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The NBD server as a service of the running system: configured under the PID
 * {@code org.dmstack.nbd}, serving what the {@link Backends} service (nbd-export's, over the
 * block devices) finds.
 *
 * <p>This bundle imports nothing from core, so updating core does not restart it: the
 * backends go (requests for every export are held, clients choosing one wait) and come back
 * (held requests run), and connected clients keep their connections.
 *
 * <p>Never fail-open: the server runs only while its configuration exists (the configuration
 * is required), so nothing listens before {@code nbd.cfg} is applied, and deleting it stops the
 * server rather than falling back to defaults. A new configuration restarts the server.
 */
@Component(configurationPid = NbdServerComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true)
@Designate(ocd = NbdServerComponent.Config.class)
public final class NbdServerComponent {
    static final String PID = "org.dmstack.nbd";
    private static final Logger LOG = LoggerFactory.getLogger(NbdServerComponent.class);

    @ObjectClassDefinition(name = "dmstack NBD export", description = "Serves block devices over the NBD protocol.")
    public @interface Config {
        @AttributeDefinition(description = "Address to listen on. 0.0.0.0 (or ::) listens on every interface.")
        String address() default "127.0.0.1";

        @AttributeDefinition(description = "TCP port; 0 picks a free one.", min = "0", max = "65535")
        int port() default NbdServer.DEFAULT_PORT;

        @AttributeDefinition(description = "Exports as name=device[:ro] (device: ram0, /dev/dm-0 or 1:0); an entry may also hold several, "
                + "separated by commas. Empty: every device under its own name, writable.")
        String[] exports() default {};

        @AttributeDefinition(description = "Milliseconds requests wait for a device that went away (or core being updated) before failing with EIO.", min = "0")
        long hold_timeout_ms() default 60_000;

        @AttributeDefinition(description = "Milliseconds a client has from connecting to choosing an export; 0 for ever.", min = "0")
        long handshake_timeout_ms() default 10_000;

        @AttributeDefinition(description = "Milliseconds a session may go without a request while nothing is in flight; 0 for ever.", min = "0")
        long idle_timeout_ms() default 0;

        @AttributeDefinition(description = "Clients served at once; one more is refused in the handshake.", min = "1")
        int max_connections() default NbdServer.DEFAULT_MAX_CONNECTIONS;

        @AttributeDefinition(description = "Connections the kernel queues before they are accepted.", min = "1")
        int backlog() default NbdServer.DEFAULT_BACKLOG;

        @AttributeDefinition(description = "Payload bytes one connection may have in flight, unsent replies included; "
                + "at the limit its requests are not read until replies go out.", min = "4096")
        int max_inflight_bytes() default NbdServer.DEFAULT_MAX_INFLIGHT_BYTES;

        @AttributeDefinition(description = "Microseconds a connection's reader may poll for the client's next request before it sleeps "
                + "(adaptive, as Linux's busy_read); 0 never polls.", min = "0")
        long busy_poll_us() default NbdServer.DEFAULT_BUSY_POLL_MICROS;

        @AttributeDefinition(description = "Options a client may send in the handshake without choosing an export (as many again per export "
                + "after NBD_OPT_LIST); one more is refused and the client disconnected.", min = "1")
        int max_options() default NbdServer.DEFAULT_MAX_OPTIONS;
    }

    private Backends backends; // under this

    private NbdServer server; // under this

    private ServiceRegistration<NbdServer> registration;

    /**
     * Starts the server and publishes it as a service whose properties {@code nbd.host} and
     * {@code nbd.port} say where it listens (the launcher's {@code --run} reads them).
     */
    @Activate
    synchronized void activate(Config config) {
        String[] exports = config.exports() == null ? new String[0] : config.exports();
        exports = Arrays.stream(exports).flatMap(e -> Arrays.stream(e.split(","))).filter(s -> !s.isBlank()).map(String::strip)
                .toArray(String[]::new);
        try {
            NbdServer.Builder b = NbdServer.builder().backends(backends).address(config.address()).port(config.port())
                    .holdTimeout(Duration.ofMillis(config.hold_timeout_ms()))
                    .handshakeTimeout(Duration.ofMillis(config.handshake_timeout_ms()))
                    .idleTimeout(Duration.ofMillis(config.idle_timeout_ms()))
                    .maxConnections(config.max_connections()).backlog(config.backlog()).maxInflightBytes(config.max_inflight_bytes())
                    .busyPoll(Duration.ofNanos(config.busy_poll_us() * 1000)).maxOptions(config.max_options());
            Arrays.stream(exports).forEach(b::export);
            server = b.start();
        } catch (IOException | IllegalArgumentException e) {
            // One line a user can act on (a busy port, a bad entry); nothing is served meanwhile.
            LOG.error("NBD export not started: {}", e.getMessage());
            return;
        }
        Bundle bundle = FrameworkUtil.getBundle(NbdServerComponent.class);
        if (bundle != null) {
            registration = bundle.getBundleContext().registerService(NbdServer.class, server, new Hashtable<>(Map.of(
                    "nbd.host", server.localAddress().getAddress().getHostAddress(), "nbd.port", server.port())));
        }
        LOG.info("NBD export on {}: {}", server.localAddress(), exports.length == 0 ? "every device" : String.join(", ", exports));
    }

    /** The backends arrive (nbd-export started, or back after a core update): held requests run. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    synchronized void bindBackends(Backends b) {
        backends = b;
        if (server != null) server.backends(b);
    }

    /** The backends go (core being updated): requests are held until they are back. */
    synchronized void unbindBackends(Backends b) {
        if (backends != b) return;
        backends = null;
        if (server != null) server.backends(null);
    }

    @Deactivate
    synchronized void deactivate() {
        if (registration != null) registration.unregister();
        registration = null;
        if (server != null) server.close();
        server = null;
    }

    /** The running server (for tests and the shell), or null when it could not start. */
    synchronized NbdServer server() {
        return server;
    }
}
