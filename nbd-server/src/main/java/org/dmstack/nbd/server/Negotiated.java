package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

/**
 * What the handshake settled, fixed for the rest of the session: the export, and what the
 * client was told of it (its size, transmission flags and minimum block size) and whether
 * replies are structured.
 */
record Negotiated(Export export, long size, int flags, int minBlock, boolean structured) {

    /** What a client sees of export {@code e} on backend {@code b} now. */
    static Negotiated of(Export e, Backend b, boolean structured) {
        return new Negotiated(e, b.size(), transmissionFlags(e, b, structured), Math.min(b.minBlockSize(), 64 * 1024), structured);
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
        if (e.readOnly()) f |= FLAG_READ_ONLY;
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
