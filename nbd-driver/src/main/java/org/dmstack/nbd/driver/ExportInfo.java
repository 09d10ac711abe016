package org.dmstack.nbd.driver;

import org.dmstack.nbd.protocol.Nbd;
/**
 * What the server told us about an export during the handshake.
 *
 * @param size the export's size in bytes
 * @param flags the transmission flags (NBD_FLAG_*)
 * @param minBlock the minimum block size (1 when the server did not say)
 * @param preferredBlock the preferred block size (4096 when the server did not say)
 * @param maxBlock the largest payload the server accepts
 * @param structuredReplies whether replies come as structured chunks
 */
record ExportInfo(long size, int flags, int minBlock, int preferredBlock, int maxBlock, boolean structuredReplies) {
    boolean has(int flag) {
        return (flags & Nbd.FLAG_HAS_FLAGS) != 0 && (flags & flag) != 0;
    }

    boolean readOnly() {
        return has(Nbd.FLAG_READ_ONLY);
    }

    boolean sendFlush() {
        return has(Nbd.FLAG_SEND_FLUSH);
    }

    boolean sendFua() {
        return has(Nbd.FLAG_SEND_FUA);
    }

    boolean trim() {
        return has(Nbd.FLAG_SEND_TRIM);
    }

    boolean writeZeroes() {
        return has(Nbd.FLAG_SEND_WRITE_ZEROES);
    }

    boolean multiConn() {
        return has(Nbd.FLAG_CAN_MULTI_CONN);
    }

    /** The flags by their names, for the log and the nbd/flags attribute. */
    String flagNames() {
        StringBuilder sb = new StringBuilder();
        if (readOnly()) sb.append("read-only ");
        if (sendFlush()) sb.append("flush ");
        if (sendFua()) sb.append("fua ");
        if (has(Nbd.FLAG_ROTATIONAL)) sb.append("rotational ");
        if (trim()) sb.append("trim ");
        if (writeZeroes()) sb.append("write-zeroes ");
        if (multiConn()) sb.append("multi-conn ");
        return sb.toString().strip();
    }
}
