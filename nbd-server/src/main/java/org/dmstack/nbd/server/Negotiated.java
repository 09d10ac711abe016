package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.util.List;
import java.util.Set;

/**
 * What the handshake settled, fixed for the rest of the session: the export, and what the
 * client was told of it (its size, transmission flags and minimum block size), whether replies
 * are structured, and the metadata contexts NBD_CMD_BLOCK_STATUS answers for (in id order).
 */
record Negotiated(Export export, long size, int flags, int minBlock, boolean structured, List<MetaContext> contexts) {

    /** What a client sees of export {@code e} on backend {@code b} now, with the metadata {@code contexts} it selected. */
    static Negotiated of(Export e, Backend b, boolean structured, Set<MetaContext> contexts) {
        return new Negotiated(e, b.size(), transmissionFlags(e, b, structured), Math.min(b.minBlockSize(), 64 * 1024), structured,
                List.copyOf(contexts));
    }

    /**
     * The transmission flags, telling the truth about the backend: FLUSH and FUA only when it
     * has a write cache; TRIM and WRITE_ZEROES only for writable exports. CAN_MULTI_CONN is
     * always safe here: the server keeps no cache of its own, every connection to an export
     * goes to the same backend, and a FLUSH flushes the whole backend's write cache.
     */
    static int transmissionFlags(Export e, Backend b, boolean structured) {
        int f = FLAG_HAS_FLAGS | FLAG_CAN_MULTI_CONN;
        if (b.writeCache()) f |= FLAG_SEND_FLUSH;
        if (e.readOnly() || b.readOnly()) f |= FLAG_READ_ONLY;
        else {
            f |= FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES;
            if (b.writeCache()) f |= FLAG_SEND_FUA;
        }
        if (structured) f |= FLAG_SEND_DF;
        return f;
    }

    /** Whether the client was offered FUA. */
    boolean fua() {
        return (flags & FLAG_SEND_FUA) != 0;
    }
}
