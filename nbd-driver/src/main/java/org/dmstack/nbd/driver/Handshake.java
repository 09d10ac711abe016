package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * The client side of the fixed newstyle handshake (doc/proto.md, as libnbd does it): ask for
 * structured replies, then NBD_OPT_GO with NBD_INFO_BLOCK_SIZE; a server that does not know
 * NBD_OPT_GO (NBD_REP_ERR_UNSUP) gets NBD_OPT_EXPORT_NAME instead, as old servers expect.
 * A newstyle server that is not "fixed" gets NBD_OPT_EXPORT_NAME directly.
 */
final class Handshake {
    private final SocketChannel ch;
    private final String export;
    private boolean noZeroes;

    private Handshake(SocketChannel ch, String export) {
        this.ch = ch;
        this.export = export;
    }

    /**
     * Negotiates {@code export} on a connected channel and leaves it in the transmission phase.
     *
     * @throws NbdProtocolException when the server breaks the protocol or refuses the export
     * @throws IOException when the connection fails
     */
    static ExportInfo negotiate(SocketChannel ch, String export) throws IOException {
        return new Handshake(ch, export).run();
    }

    private ExportInfo run() throws IOException {
        ByteBuffer greeting = Wire.read(ch, 18);
        if (greeting.getLong() != NBDMAGIC) throw new NbdProtocolException("not an NBD server (no NBDMAGIC in its greeting)");
        long style = greeting.getLong();
        if (style == CLISERV_MAGIC) throw new NbdProtocolException("the server speaks the oldstyle handshake, which dmstack does not support");
        if (style != IHAVEOPT) throw new NbdProtocolException("bad magic 0x" + Long.toHexString(style) + " in the server's greeting");
        int serverFlags = Short.toUnsignedInt(greeting.getShort());
        boolean fixed = (serverFlags & FLAG_FIXED_NEWSTYLE) != 0;
        noZeroes = (serverFlags & FLAG_NO_ZEROES) != 0;
        int clientFlags = (fixed ? FLAG_C_FIXED_NEWSTYLE : 0) | (noZeroes ? FLAG_C_NO_ZEROES : 0);
        Wire.writeFully(ch, ByteBuffer.allocate(4).putInt(clientFlags).flip());
        if (!fixed) return exportName(false);
        boolean structured = structuredReplies();
        ExportInfo info = go(structured);
        return info != null ? info : exportName(structured);
    }

    private boolean structuredReplies() throws IOException {
        sendOption(OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
        OptionReply r = readReply(OPT_STRUCTURED_REPLY);
        if (r.type == REP_ACK) return true;
        if ((r.type & REP_FLAG_ERROR) != 0) return false; // the server does not offer them: simple replies
        throw new NbdProtocolException("unexpected reply " + Integer.toUnsignedString(r.type) + " to NBD_OPT_STRUCTURED_REPLY");
    }

    /** NBD_OPT_GO; null when the server does not know it. */
    private ExportInfo go(boolean structured) throws IOException {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(4 + name.length + 2 + 2).putInt(name.length).put(name).putShort((short) 1).putShort((short) INFO_BLOCK_SIZE);
        sendOption(OPT_GO, data.flip());
        long size = 0;
        boolean described = false; // an NBD_INFO_EXPORT came (its size may be any 64 bits)
        int flags = 0;
        int min = 1, preferred = 4096, max = MAX_PAYLOAD;
        while (true) {
            OptionReply r = readReply(OPT_GO);
            if (r.type == REP_ACK) break;
            if (r.type == REP_ERR_UNSUP) return null;
            if ((r.type & REP_FLAG_ERROR) != 0) {
                abort();
                throw refused(r);
            }
            if (r.type != REP_INFO) continue; // a reply we did not ask for carries nothing we need
            if (r.data.remaining() < 2) throw new NbdProtocolException("NBD_REP_INFO of " + r.data.remaining() + " bytes, too short for its type");
            int info = Short.toUnsignedInt(r.data.getShort());
            if (info == INFO_EXPORT) {
                if (r.data.remaining() != 10) throw new NbdProtocolException("NBD_INFO_EXPORT of " + (2 + r.data.remaining()) + " bytes instead of 12");
                size = r.data.getLong();
                flags = Short.toUnsignedInt(r.data.getShort());
                described = true;
            } else if (info == INFO_BLOCK_SIZE) {
                if (r.data.remaining() != 12) throw new NbdProtocolException("NBD_INFO_BLOCK_SIZE of " + (2 + r.data.remaining()) + " bytes instead of 14");
                min = r.data.getInt();
                preferred = r.data.getInt();
                max = r.data.getInt();
            }
        }
        if (!described) throw new NbdProtocolException("the server acknowledged NBD_OPT_GO without NBD_INFO_EXPORT");
        return checked(new ExportInfo(size, flags, min, preferred, max, structured));
    }

    /** NBD_OPT_EXPORT_NAME: the server answers with the export's size and flags, or hangs up. */
    private ExportInfo exportName(boolean structured) throws IOException {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        sendOption(OPT_EXPORT_NAME, ByteBuffer.wrap(name));
        ByteBuffer reply;
        try {
            reply = Wire.read(ch, 10);
        } catch (java.io.EOFException e) {
            throw new NbdProtocolException("the server closed the connection: no export '" + export + "'");
        }
        if (!noZeroes) Wire.skip(ch, 124);
        long size = reply.getLong();
        int flags = Short.toUnsignedInt(reply.getShort());
        return checked(new ExportInfo(size, flags, 1, 4096, MAX_PAYLOAD, structured));
    }

    /** Sizes a block device can be made from, or the reason it cannot. */
    private ExportInfo checked(ExportInfo info) throws NbdProtocolException {
        if (info.size() < 0) throw new NbdProtocolException("export '" + export + "' has a size of " + Long.toUnsignedString(info.size()) + " bytes, more than a block device can address");
        int min = info.minBlock();
        if (min < 1 || Integer.bitCount(min) != 1 || min > 65536) throw new NbdProtocolException("invalid minimum block size " + min);
        if (min > 4096) {
            throw new NbdProtocolException("export '" + export + "' has a minimum block size of " + min
                    + " bytes; a block device's logical block size can be at most 4096");
        }
        int preferred = info.preferredBlock();
        if (preferred < min || Integer.bitCount(preferred) != 1) throw new NbdProtocolException("invalid preferred block size " + preferred);
        long max = Integer.toUnsignedLong(info.maxBlock());
        if (max < 512) throw new NbdProtocolException("maximum block size " + max + " is below 512 bytes");
        if (max < min) throw new NbdProtocolException("maximum block size " + max + " is below the minimum block size " + min);
        return info;
    }

    private NbdProtocolException refused(OptionReply r) {
        String message = printable(StandardCharsets.UTF_8.decode(r.data).toString());
        return new NbdProtocolException("the server refused export '" + export + "': " + replyName(r.type) + (message.isEmpty() ? "" : ": " + message));
    }

    /**
     * Says goodbye to a server that refused the export, as the spec asks of a client that ends the
     * handshake (at a bare close qemu-nbd logs "option negotiation failed: Failed to read opts
     * magic"); not waiting for its ACK, as qemu's own client does not.
     */
    private void abort() {
        try {
            sendOption(OPT_ABORT, ByteBuffer.allocate(0));
        } catch (IOException e) {
            // the connection is being closed anyway
        }
    }

    private void sendOption(int option, ByteBuffer data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(option).putInt(data.remaining()).flip();
        Wire.writeFully(ch, header, data);
    }

    private record OptionReply(int type, ByteBuffer data) {}

    private OptionReply readReply(int option) throws IOException {
        ByteBuffer h = Wire.read(ch, 20);
        if (h.getLong() != OPTION_REPLY_MAGIC) throw new NbdProtocolException("bad option reply magic");
        int replyOption = h.getInt();
        int type = h.getInt();
        long length = Integer.toUnsignedLong(h.getInt());
        if (replyOption != option) throw new NbdProtocolException("reply to option " + replyOption + " while waiting for option " + option);
        if (length > MAX_STRING + 64) throw new NbdProtocolException("option reply of " + length + " bytes");
        return new OptionReply(type, Wire.read(ch, (int) length));
    }
}
