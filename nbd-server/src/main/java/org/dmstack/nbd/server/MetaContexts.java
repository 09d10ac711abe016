package org.dmstack.nbd.server;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.dmstack.nbd.protocol.Nbd;

/**
 * NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT, as the spec's "Metadata querying" says:
 * the option's data taken apart with every length checked, and the queries matched against the
 * contexts this server knows ({@link MetaContext}). The handshake sends the replies.
 *
 * <p>Query syntax: {@code namespace:leaf}. {@code base:allocation} selects that context;
 * {@code base:} lists every context of the base namespace (and selects nothing, as the spec
 * says); a leaf or a namespace this server does not know matches nothing and is no error.
 */
final class MetaContexts {
    private MetaContexts() {}

    /** The option's data: the export it is about and its queries, each a valid NBD string. */
    record Query(String export, List<String> queries) {}

    /** The option's data is malformed; the message says how. The option gets NBD_REP_ERR_INVALID. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Takes the option's data apart: 32 bits of export name length, the name, 32 bits of query
     * count, then each query as 32 bits of length and the string. Every length is checked against
     * what is left, so lying lengths are refused, never followed; nothing may follow the last query.
     */
    static Query parse(String what, ByteBuffer data) throws Invalid {
        int length = data.remaining();
        if (length < 8) throw new Invalid(what + ": " + length + " bytes of data is too short");
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > data.remaining() - 4) throw new Invalid(what + ": export name length " + nameLength + " overruns the option");
        String export = Handshake.string(data, (int) nameLength);
        if (export == null) throw new Invalid(what + ": the export name is not a valid NBD string");
        long count = Integer.toUnsignedLong(data.getInt());
        List<String> queries = new ArrayList<>();
        for (long i = 1; i <= count; i++) {
            if (data.remaining() < 4) throw new Invalid(what + ": query " + i + " of " + count + " overruns the option");
            long queryLength = Integer.toUnsignedLong(data.getInt());
            if (queryLength > data.remaining()) throw new Invalid(what + ": query " + i + " length " + queryLength + " overruns the option");
            String query = Handshake.string(data, (int) queryLength);
            if (query == null) throw new Invalid(what + ": query " + i + " is not a valid NBD string");
            if (query.indexOf(':') < 1) throw new Invalid(what + ": query '" + Nbd.printable(query) + "' does not start with a namespace and a colon");
            queries.add(query);
        }
        if (data.hasRemaining()) throw new Invalid(what + ": " + data.remaining() + " bytes after the last query");
        return new Query(export, queries);
    }

    /** What NBD_OPT_LIST_META_CONTEXT answers: every context for no query, else those a query names or a namespace query covers. */
    static Set<MetaContext> list(List<String> queries) {
        if (queries.isEmpty()) return EnumSet.allOf(MetaContext.class);
        Set<MetaContext> found = EnumSet.noneOf(MetaContext.class);
        for (String q : queries) {
            for (MetaContext c : MetaContext.values()) {
                if (q.equals(c.contextName) || q.equals(c.namespace())) found.add(c);
            }
        }
        return found;
    }

    /** What NBD_OPT_SET_META_CONTEXT selects: the contexts queries name exactly (none for no query). */
    static Set<MetaContext> select(List<String> queries) {
        Set<MetaContext> found = EnumSet.noneOf(MetaContext.class);
        for (String q : queries) {
            for (MetaContext c : MetaContext.values()) {
                if (q.equals(c.contextName)) found.add(c);
            }
        }
        return found;
    }
}
