package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.dmstack.nbd.protocol.Nbd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fixed newstyle handshake, as nbdkit's protocol-handshake-newstyle.c: the greeting, the
 * client's flags, then options until the client picks an export (NBD_OPT_GO or
 * NBD_OPT_EXPORT_NAME) or gives up. Every option a client may get wrong is answered with an
 * error and the haggling goes on; only what the protocol gives no way to answer ends it.
 */
final class Handshake {
    private static final Logger LOG = LoggerFactory.getLogger(Handshake.class);

    /** Option data beyond this is refused (NBD_REP_ERR_TOO_BIG); far beyond it, disconnected. */
    static final int MAX_OPTION_DATA = 64 * 1024;
    static final int MAX_OPTION_SKIP = 1 << 20;
    private static final int HANDSHAKE_FLAGS = FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES;

    private final Wire wire;
    private final ExportTable exports;
    private final long holdNanos;
    private final String refusal;
    private final int maxOptions;
    /** Options taken so far, and how many the client may send before it chooses an export. */
    private long options, allowed;
    private boolean listed;
    private boolean noZeroes;
    private boolean structured;
    /** What the last NBD_OPT_SET_META_CONTEXT selected, and for which export name; null when none. */
    private Selection selection;

    private record Selection(String export, Set<MetaContext> contexts) {}

    private Handshake(Wire wire, ExportTable exports, long holdNanos, int maxOptions, String refusal) {
        this.wire = wire;
        this.exports = exports;
        this.holdNanos = holdNanos;
        this.refusal = refusal;
        this.maxOptions = maxOptions;
        this.allowed = maxOptions;
    }

    /**
     * Haggles with the client: what it chose, or null when it aborted. While there are no
     * backends at all (core being updated), questions about exports wait up to {@code holdNanos}
     * for them, as requests do. A client that sends {@code maxOptions} options without choosing
     * an export (more after NBD_OPT_LIST, see {@link #list}) is disconnected, as nbdkit does.
     */
    static Negotiated run(Wire wire, ExportTable exports, long holdNanos, int maxOptions) throws IOException {
        return new Handshake(wire, exports, holdNanos, maxOptions, null).options();
    }

    /**
     * Tells a client it cannot be served now, and why, in the protocol's words: NBD_OPT_LIST,
     * INFO and GO get NBD_REP_ERR_POLICY with {@code why} (which clients print), and
     * NBD_OPT_EXPORT_NAME, which cannot be answered, a hang-up. Returns when the client gives up.
     */
    static void refuse(Wire wire, ExportTable exports, int maxOptions, String why) throws IOException {
        new Handshake(wire, exports, 0, maxOptions, why).options();
    }

    private Negotiated options() throws IOException {
        wire.send(ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) HANDSHAKE_FLAGS).flip());
        int clientFlags = wire.read(4).getInt();
        if ((clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolError(String.format("unknown client flags 0x%x", clientFlags));
        }
        noZeroes = (clientFlags & FLAG_C_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer header = wire.read(16);
            long magic = header.getLong();
            if (magic != IHAVEOPT) throw new ProtocolError(String.format("bad option magic 0x%x", magic));
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            ByteBuffer data = null; // too big to take
            if (length > MAX_OPTION_DATA) {
                if (length > MAX_OPTION_SKIP || option == OPT_EXPORT_NAME) {
                    throw new ProtocolError(Nbd.optionName(option) + " with " + length + " bytes of data");
                }
                wire.skip(length);
            } else {
                data = wire.read((int) length);
            }
            if (option != OPT_ABORT && ++options > allowed) tooMany(option);
            if (option != OPT_ABORT && exports.isClosed()) {
                shuttingDown(option);
                continue;
            }
            if (data == null) {
                optionError(option, REP_ERR_TOO_BIG, Nbd.optionName(option) + ": " + length + " bytes of option data is too much");
                continue;
            }
            Negotiated chosen = null;
            switch (option) {
                case OPT_EXPORT_NAME -> chosen = exportName(data);
                case OPT_ABORT -> {
                    optionReply(option, REP_ACK, null);
                    return null;
                }
                case OPT_LIST -> list(data);
                case OPT_INFO, OPT_GO -> chosen = infoOrGo(option, data);
                case OPT_STRUCTURED_REPLY -> {
                    if (length != 0) optionError(option, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY carries no data");
                    else if (structured) optionError(option, REP_ERR_INVALID, "structured replies are already negotiated");
                    else {
                        structured = true;
                        optionReply(option, REP_ACK, null);
                    }
                }
                case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, data);
                case OPT_STARTTLS -> optionError(option, REP_ERR_UNSUP, "this server does not support TLS");
                default -> optionError(option, REP_ERR_UNSUP, Nbd.optionName(option) + " is not supported by this server");
            }
            if (chosen != null) return chosen;
        }
    }

    /** NBD_OPT_EXPORT_NAME: no way to say no, so an unknown export ends the session. */
    private Negotiated exportName(ByteBuffer data) throws IOException {
        if (refusal != null) throw new ProtocolError(refusal);
        String name = string(data, data.remaining());
        if (!awaitBackends()) return shuttingDown(OPT_EXPORT_NAME);
        Export e = name == null ? null : exports.find(name);
        Backend b = e == null ? null : e.backend();
        if (name == null) throw new ProtocolError("NBD_OPT_EXPORT_NAME: the export name is not a valid NBD string");
        if (b == null) throw new ProtocolError("NBD_OPT_EXPORT_NAME: no export named '" + Nbd.printable(name) + "'");
        Negotiated n = Negotiated.of(e, b, structured, contexts(name));
        ByteBuffer reply = ByteBuffer.allocate(noZeroes ? 10 : 134);
        reply.putLong(n.size()).putShort((short) n.flags()).position(reply.limit()).flip();
        wire.send(reply);
        LOG.debug("{}: export '{}' ({} bytes, flags 0x{}) by NBD_OPT_EXPORT_NAME", wire.peer, e.name(), n.size(), Integer.toHexString(n.flags()));
        return n;
    }

    private void list(ByteBuffer data) throws IOException {
        if (refusal != null) {
            optionError(OPT_LIST, REP_ERR_POLICY, refusal);
            return;
        }
        if (data.hasRemaining()) {
            optionError(OPT_LIST, REP_ERR_INVALID, "NBD_OPT_LIST carries no data");
            return;
        }
        if (!awaitBackends()) {
            shuttingDown(OPT_LIST);
            return;
        }
        for (Export e : exports.available()) {
            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
            byte[] description = e.description().getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(4 + name.length + description.length).putInt(name.length).put(name).put(description).flip();
            optionReply(OPT_LIST, REP_SERVER, b);
        }
        optionReply(OPT_LIST, REP_ACK, null);
        // As nbdkit: a client that listed the exports may ask about each of them (nbdinfo --list
        // asks INFO and the metadata contexts of every one), so each listed export allows as
        // many options again; once.
        if (!listed) allowed += (long) maxOptions * exports.available().size();
        listed = true;
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: same request, same replies; GO then enters transmission. */
    private Negotiated infoOrGo(int option, ByteBuffer data) throws IOException {
        String what = Nbd.optionName(option);
        int length = data.remaining();
        if (length < 6) return optionError(option, REP_ERR_INVALID, what + ": " + length + " bytes of data is too short");
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > length - 6) return optionError(option, REP_ERR_INVALID, what + ": name length " + nameLength + " overruns the option");
        String name = string(data, (int) nameLength);
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != 2 * count) {
            return optionError(option, REP_ERR_INVALID, what + ": " + count + " information requests do not fill the option's " + length + " bytes");
        }
        boolean wantName = false, wantDescription = false;
        for (int i = 0; i < count; i++) {
            int type = Short.toUnsignedInt(data.getShort());
            if (type == INFO_NAME) wantName = true;
            if (type == INFO_DESCRIPTION) wantDescription = true;
        }
        if (name == null) return optionError(option, REP_ERR_INVALID, what + ": the export name is not a valid NBD string");
        if (refusal != null) return optionError(option, REP_ERR_POLICY, refusal);
        if (!awaitBackends()) return shuttingDown(option);
        Export e = exports.find(name);
        Backend b = e == null ? null : e.backend();
        if (b == null) return optionError(option, REP_ERR_UNKNOWN, "No export named '" + Nbd.printable(name) + "'");

        Negotiated n = Negotiated.of(e, b, structured, option == OPT_GO ? contexts(name) : Set.of());
        optionReply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(n.size()).putShort((short) n.flags()).flip());
        if (wantName || !name.equals(e.name())) optionReply(option, REP_INFO, infoString(INFO_NAME, e.name()));
        if (wantDescription) optionReply(option, REP_INFO, infoString(INFO_DESCRIPTION, e.description()));
        optionReply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE)
                .putInt(n.minBlock()).putInt(preferredBlock(b, n.minBlock())).putInt(MAX_PAYLOAD).flip());
        optionReply(option, REP_ACK, null);
        if (option != OPT_GO) return null;
        // Debug, as nbdkit and qemu-nbd say nothing per client unless asked: a health check that
        // connects every second would write a line a second to dmstack.log, for ever, and clients
        // that come and go without pause a write(2) each (a 7 MB log in a 10 s mixed workload).
        LOG.debug("{}: export '{}' ({} bytes, flags 0x{})", wire.peer, e.name(), n.size(), Integer.toHexString(n.flags()));
        return n;
    }

    /**
     * NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT ({@link MetaContexts}): one
     * NBD_REP_META_CONTEXT per context, then NBD_REP_ACK. A SET replaces the selection even when it
     * fails, as the spec says, so a refused SET leaves none.
     */
    private void metaContext(int option, ByteBuffer data) throws IOException {
        String what = Nbd.optionName(option);
        boolean set = option == OPT_SET_META_CONTEXT;
        if (set) selection = null;
        if (!structured) {
            optionError(option, REP_ERR_INVALID, what + ": structured replies must be negotiated first (NBD_OPT_STRUCTURED_REPLY)");
            return;
        }
        MetaContexts.Query query;
        try {
            query = MetaContexts.parse(what, data);
        } catch (MetaContexts.Invalid e) {
            optionError(option, REP_ERR_INVALID, e.getMessage());
            return;
        }
        if (refusal != null) {
            optionError(option, REP_ERR_POLICY, refusal);
            return;
        }
        if (!awaitBackends()) {
            shuttingDown(option);
            return;
        }
        Export e = exports.find(query.export());
        if (e == null || e.backend() == null) {
            optionError(option, REP_ERR_UNKNOWN, "No export named '" + Nbd.printable(query.export()) + "'");
            return;
        }
        Set<MetaContext> found = set ? MetaContexts.select(query.queries()) : MetaContexts.list(query.queries());
        for (MetaContext c : found) optionReply(option, REP_META_CONTEXT, c.reply(set ? c.id : 0));
        optionReply(option, REP_ACK, null);
        if (set) selection = new Selection(query.export(), found);
    }

    /**
     * The contexts a client entering transmission on export {@code name} gets: what its last
     * NBD_OPT_SET_META_CONTEXT selected, if that named the same export (the spec's condition for
     * NBD_CMD_BLOCK_STATUS); else none.
     */
    private Set<MetaContext> contexts(String name) {
        if (selection == null) return Set.of();
        if (!selection.export().equals(name)) {
            LOG.debug("{}: metadata contexts were set for export '{}', not '{}': none selected", wire.peer, selection.export(), name);
            return Set.of();
        }
        return selection.contexts();
    }

    private static ByteBuffer infoString(int type, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + b.length).putShort((short) type).put(b).flip();
    }

    /**
     * The backend's preferred block size, within what the spec allows: at least the minimum and
     * 512 ("a power of 2 at least as large as the maximum of the minimum block size and 2^9"), at
     * most the maximum payload.
     */
    static int preferredBlock(Backend b, int minBlock) {
        return Math.clamp(b.preferredBlockSize(), Math.max(minBlock, 512), MAX_PAYLOAD);
    }

    /**
     * Waits, up to the hold time, while there are no backends to answer with (core being
     * updated); false when the server is stopping meanwhile.
     */
    private boolean awaitBackends() throws IOException {
        try {
            exports.awaitBackends(holdNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for backends");
        }
        return !exports.isClosed();
    }

    /**
     * The client has sent more options than it may without choosing an export (nbdkit's
     * MAX_NR_OPTIONS): one that loops for ever would take a thread and the CPU until the handshake
     * timeout. It is told why (NBD_REP_ERR_POLICY), unless the option is NBD_OPT_EXPORT_NAME, which
     * cannot be answered, and disconnected.
     */
    private void tooMany(int option) throws IOException {
        String why = "no export chosen after " + allowed + " options (max.options)";
        if (option != OPT_EXPORT_NAME) optionError(option, REP_ERR_POLICY, why);
        throw new ProtocolError(why);
    }

    /**
     * The server is stopping: every option but NBD_OPT_ABORT is answered NBD_REP_ERR_SHUTDOWN, as
     * the spec says ("unwilling to continue negotiation as it is in the process of being shut
     * down"), until the client aborts or goes, or the server's grace ends; NBD_OPT_EXPORT_NAME,
     * which cannot be answered, is a hang-up.
     */
    private Negotiated shuttingDown(int option) throws IOException {
        if (option == OPT_EXPORT_NAME) throw new ProtocolError("NBD_OPT_EXPORT_NAME while the server is shutting down");
        return optionError(option, REP_ERR_SHUTDOWN, "the server is shutting down");
    }

    /** Answers an option with an error and a message; the haggling goes on (null: nothing chosen). */
    private Negotiated optionError(int option, int error, String message) throws IOException {
        LOG.debug("{}: {} refused: {}", wire.peer, Nbd.optionName(option), message);
        optionReply(option, error, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
        return null;
    }

    private void optionReply(int option, int type, ByteBuffer data) throws IOException {
        int length = data == null ? 0 : data.remaining();
        ByteBuffer h = ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type).putInt(length).flip();
        if (data == null) wire.send(h);
        else wire.send(h, data);
    }

    /** An NBD string of {@code length} bytes, taken from {@code data}: UTF-8 without NUL, at most 4096 bytes; null when it is not one. */
    static String string(ByteBuffer data, int length) {
        ByteBuffer slice = data.slice(data.position(), length);
        data.position(data.position() + length);
        if (length > MAX_STRING) return null;
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(slice).toString();
            return s.indexOf('\0') >= 0 ? null : s;
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
