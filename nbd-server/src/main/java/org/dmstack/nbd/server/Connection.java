package org.dmstack.nbd.server;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client, from accept to close: the {@link Handshake}, then the {@link Transmission} of
 * the export it chose, each under its timeout. How the session ends decides only what is
 * logged; the socket is always closed, and what the session held goes back.
 *
 * <p>The handshake runs on a transmission thread that was idle, if there was one, and otherwise on
 * a virtual thread, so clients that connect and say nothing cost no operating-system thread of
 * their own. Transmission runs on a platform thread: it blocks in the kernel for
 * the next request and for a reply that does not fit the socket buffer at once, where a virtual
 * thread would park and be woken by the poller, a hand-off for every request. The connection
 * limit bounds these threads; they outlive their connections (see {@link NbdServer}). A virtual
 * handshake thread hands the connection over and ends; the transmission thread ends the session.
 */
final class Connection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
    private static final int HANDSHAKE = 0, TRANSMISSION = 1, EXPIRED = 2;

    private final Wire wire;
    private final ExportTable exports;
    private final Limits limits;
    private final ScheduledExecutorService timer;
    private final Executor transmitters;
    private final PayloadPool spare;
    private final String refusal;
    private final Consumer<Connection> whenEnded;
    private final CountDownLatch over = new CountDownLatch(1);
    private final long accepted = System.nanoTime();
    private final AtomicInteger state = new AtomicInteger(HANDSHAKE);
    private volatile ScheduledFuture<?> timeout;
    private volatile Transmission transmission;
    private volatile Export.Opener opener;

    /**
     * @param transmitters the platform threads transmission runs on
     * @param spare the server's payload buffers that ended connections left
     * @param refusal null to serve the client; else why it is not served (the connection
     *     limit), which the handshake tells it
     * @param whenEnded runs once, when the session is over and its socket closed
     */
    Connection(SocketChannel channel, ExportTable exports, Limits limits, ScheduledExecutorService timer, Executor transmitters, PayloadPool spare,
            String refusal, Consumer<Connection> whenEnded) {
        this.wire = new Wire(channel);
        this.exports = exports;
        this.limits = limits;
        this.timer = timer;
        this.transmitters = transmitters;
        this.spare = spare;
        this.refusal = refusal;
        this.whenEnded = whenEnded;
    }

    @Override
    public void run() {
        boolean handedOff = false;
        try {
            if (refusal != null) {
                Handshake.refuse(wire, exports, limits.maxOptions(), refusal);
                return;
            }
            // Waiting for backends (core being updated) past the handshake timeout would keep this
            // thread, and the client's place under the connection limit, for a socket closed then.
            long hold = limits.handshakeNanos() > 0 ? Math.min(limits.holdNanos(), limits.handshakeNanos()) : limits.holdNanos();
            Negotiated chosen = Handshake.run(wire, exports, hold, limits.maxOptions());
            if (chosen == null || !state.compareAndSet(HANDSHAKE, TRANSMISSION)) return;
            // Chosen as the server began to stop, after it shut the input of those in transmission.
            if (exports.isClosed()) wire.shutdownInput();
            // nbd-server opens the export's file in the client's child once it is chosen, until the client goes.
            opener = chosen.export().open("nbd client " + (wire.peer.startsWith("/") ? wire.peer.substring(1) : wire.peer));
            Transmission t = new Transmission(wire, chosen, limits.holdNanos(), limits.busyPollNanos(), limits.maxInflightBytes(), transmitters, spare);
            transmission = t;
            if (limits.idleNanos() > 0) timeout = timer.schedule(this::idleCheck, limits.idleNanos(), TimeUnit.NANOSECONDS);
            if (Thread.currentThread().isVirtual()) {
                // The virtual thread ends here: the transmission thread owns the connection to its
                // end, so no thread waits beside it and nothing has to wake one when it is done.
                transmitters.execute(() -> transmit(t, true));
            } else {
                transmit(t, false);
            }
            handedOff = true; // transmit ends the session
        } catch (IOException | RuntimeException e) {
            ended(e);
        } finally {
            if (!handedOff) end();
        }
    }

    /** @param afterVirtual a virtual thread used the socket (the handshake), which left it non-blocking */
    private void transmit(Transmission t, boolean afterVirtual) {
        try {
            if (afterVirtual) wire.platformThreadsOnly();
            wire.unpaceIfLocal();
            t.run();
        } catch (IOException | InterruptedException | RuntimeException e) {
            ended(e);
        } finally {
            end();
        }
    }

    /** The session is over: the socket is closed, its export's open and what the server counts for it are given back. */
    private void end() {
        cancelTimeout();
        wire.close();
        Export.Opener o = opener;
        if (o != null) o.close();
        whenEnded.accept(this);
        over.countDown();
    }

    /** Waits up to {@code nanos} for the session to end; false if it has not. */
    boolean awaitEnd(long nanos) throws InterruptedException {
        return over.await(nanos, TimeUnit.NANOSECONDS);
    }

    private void ended(Exception e) {
        switch (e) {
            case EOFException eof -> LOG.debug("{}: client went away: {}", wire.peer, eof.getMessage());
            case ProtocolError p -> LOG.warn("{}: {}; disconnecting", wire.peer, p.getMessage());
            case IOException io -> LOG.debug("{}: {}", wire.peer, io.toString());
            case InterruptedException ie -> Thread.currentThread().interrupt();
            case RejectedExecutionException closing -> LOG.debug("{}: the server is closing", wire.peer);
            default -> LOG.error("{}: unexpected failure; disconnecting", wire.peer, e);
        }
    }

    /**
     * Disconnects the client if it has not chosen an export by {@code now} (System.nanoTime),
     * {@link Limits#handshakeNanos()} after it connected; the server looks at every connection
     * in the handshake from time to time rather than setting a timer for each.
     */
    void expireHandshake(long now) {
        if (now - accepted < limits.handshakeNanos() || !state.compareAndSet(HANDSHAKE, EXPIRED)) return;
        LOG.info("{}: no export chosen within {} ms (handshake.timeout.ms); disconnecting", wire.peer,
                Duration.ofNanos(limits.handshakeNanos()).toMillis());
        wire.close();
    }

    /**
     * Disconnects a session that has sent no request for the idle timeout and has nothing in
     * flight, or whose client has not taken a reply for as long (it does not read them: the writer
     * waits in the kernel, and the reader for the permits those replies hold); else looks again later.
     */
    private void idleCheck() {
        Transmission t = transmission;
        long now = System.nanoTime();
        long idleFor = now - t.lastRequest();
        long left = limits.idleNanos() - idleFor;
        boolean deaf = wire.sendingFor(now) >= limits.idleNanos();
        if ((t.idle() || deaf) && left <= 0) {
            LOG.info("{}: {} for {} ms (idle.timeout.ms); disconnecting", wire.peer, deaf ? "not reading its replies" : "idle",
                    Duration.ofNanos(idleFor).toMillis());
            wire.close();
            return;
        }
        if (wire.isOpen()) timeout = timer.schedule(this::idleCheck, left > 0 ? left : limits.idleNanos(), TimeUnit.NANOSECONDS);
    }

    private void cancelTimeout() {
        ScheduledFuture<?> f = timeout;
        if (f != null) f.cancel(false);
    }

    /** Gives back its kept payload buffers if it has been quiet for {@code quietNanos} ({@link Transmission#trimIfQuiet}). */
    void trimIfQuiet(long now, long quietNanos) {
        Transmission t = transmission;
        if (t != null) t.trimIfQuiet(now, quietNanos);
    }

    /** Payload memory this connection has mapped now (0 before transmission). */
    long mappedBytes() {
        Transmission t = transmission;
        return t == null ? 0 : t.mappedBytes();
    }

    /**
     * The server is stopping. In transmission: stops reading requests; replies to those in flight
     * still go out. In the handshake, the client's next option is answered NBD_REP_ERR_SHUTDOWN
     * ({@link Handshake}): the input stays open to read it.
     */
    void shutdownInput() {
        if (state.get() != HANDSHAKE) wire.shutdownInput();
    }

    void close() {
        wire.close();
    }
}
