package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transmission replies, as nbdkit's protocol.c sends them: a simple reply, or with structured
 * replies negotiated, a chunk for read data and for errors (so the message reaches the client).
 * Each reply is written whole. A client that is gone is not the request's failure: the first
 * reply that cannot be written closes the socket, and later ones are dropped.
 */
final class Replies {
    private static final Logger LOG = LoggerFactory.getLogger(Replies.class);

    private final Wire wire;
    private final boolean structured;
    private volatile boolean failed;

    Replies(Wire wire, boolean structured) {
        this.wire = wire;
        this.structured = structured;
    }

    /** Success; {@code data} is a READ's data (null for other commands). */
    void ok(Request r, ByteBuffer data) {
        send(r, 0, null, data);
    }

    void error(Request r, int error, String message) {
        LOG.debug("{}: {} handle {} failed with {}: {}", wire.peer, r.command(), r.handle(), error, message);
        send(r, error, message, null);
    }

    private void send(Request r, int error, String message, ByteBuffer data) {
        if (failed) return;
        try {
            write(r, error, message, data);
        } catch (IOException e) {
            failed = true;
            LOG.debug("{}: reply not sent: {}", wire.peer, e.toString());
            wire.close();
        }
    }

    private void write(Request r, int error, String message, ByteBuffer data) throws IOException {
        if (!structured) {
            ByteBuffer h = ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(r.handle()).flip();
            if (error == 0 && data != null) wire.send(h, data);
            else wire.send(h);
            return;
        }
        if (error != 0) {
            byte[] m = (message == null ? "" : message).getBytes(StandardCharsets.UTF_8);
            int ml = Math.min(m.length, MAX_STRING);
            ByteBuffer b = ByteBuffer.allocate(20 + 6 + ml).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_ERROR).putLong(r.handle()).putInt(6 + ml).putInt(error).putShort((short) ml).put(m, 0, ml).flip();
            wire.send(b);
        } else if (data != null && data.hasRemaining()) {
            ByteBuffer h = ByteBuffer.allocate(28).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_OFFSET_DATA).putLong(r.handle()).putInt(8 + data.remaining()).putLong(r.offset()).flip();
            wire.send(h, data);
        } else if (r.type() == CMD_READ) {
            ByteBuffer h = ByteBuffer.allocate(20).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                    .putShort((short) REPLY_TYPE_NONE).putLong(r.handle()).putInt(0).flip();
            wire.send(h);
        } else {
            wire.send(ByteBuffer.allocate(16).putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.handle()).flip());
        }
    }
}
