package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.CMD_READ;

import java.lang.foreign.MemorySegment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a request a backend has taken: the reply goes out, then the permit goes back, once;
 * or, when the backend was withdrawn under it ({@link Backend#WITHDRAWN}), it goes back to its
 * transmission to wait for the backend that returns.
 *
 * <p>The reply is made where the backend ended the request: on the connection's reader (a RAM
 * disk completes at once: no thread in between) it is corked; on any other thread it is queued
 * for the connection's {@link Sender}, so a thread that is not ours (a mapped device letting held
 * bios go) never waits for this client's socket.
 */
final class Reply implements Backend.Done {
    private static final Logger LOG = LoggerFactory.getLogger(Reply.class);

    private final Transmission transmission;
    private final Backend backend;
    private final Request r;
    private final Permit permit;
    private final Replies replies;
    private final MemorySegment data;

    /** @param data the payload buffer of a READ or WRITE (what a READ replies with), else null */
    Reply(Transmission transmission, Backend backend, Request r, Permit permit, Replies replies, MemorySegment data) {
        this.transmission = transmission;
        this.backend = backend;
        this.r = r;
        this.permit = permit;
        this.replies = replies;
        this.data = data;
    }

    @Override
    public void done(int error, String message) {
        if (error == Backend.WITHDRAWN) transmission.again(backend, r, permit);
        else send(error, message);
    }

    /** Replies; the permit (and with it the data) goes back once the reply is out. */
    private void send(int error, String message) {
        try {
            if (error != 0) replies.error(r, error, r.command() + ": " + message, permit);
            else replies.ok(r, r.type() == CMD_READ ? data.asByteBuffer() : null, permit);
        } catch (RuntimeException e) {
            LOG.error("{} failed", r.command(), e);
            permit.close();
        }
    }
}
