package org.dmstack.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client, from accept to close: the {@link Handshake}, then the {@link Transmission} of
 * the export it chose. How the session ends decides only what is logged; the socket is always
 * closed.
 */
final class Connection implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Connection.class);

    private final Wire wire;
    private final ExportTable exports;
    private final long holdNanos;

    Connection(SocketChannel channel, ExportTable exports, long holdNanos) {
        this.wire = new Wire(channel);
        this.exports = exports;
        this.holdNanos = holdNanos;
    }

    @Override
    public void run() {
        try {
            Negotiated chosen = Handshake.run(wire, exports);
            if (chosen != null) new Transmission(wire, chosen, holdNanos).run();
        } catch (EOFException e) {
            LOG.debug("{}: client went away: {}", wire.peer, e.getMessage());
        } catch (ProtocolError e) {
            LOG.warn("{}: {}; disconnecting", wire.peer, e.getMessage());
        } catch (IOException e) {
            LOG.debug("{}: {}", wire.peer, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("{}: unexpected failure; disconnecting", wire.peer, e);
        } finally {
            wire.close();
        }
    }

    /** Stops reading requests; replies to those in flight still go out. */
    void shutdownInput() {
        wire.shutdownInput();
    }

    void close() {
        wire.close();
    }
}
