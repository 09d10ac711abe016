package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.CONTEXT_BASE_ALLOCATION;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A metadata context this server knows, with the id NBD_OPT_SET_META_CONTEXT gives it. Ids are
 * the same on every connection and for every export, so a client that (against the spec's advice)
 * keeps one meets no surprise.
 */
enum MetaContext {
    /** The spec's "allocated at all" context: holes (NBD_STATE_HOLE) and zeros (NBD_STATE_ZERO). */
    BASE_ALLOCATION(CONTEXT_BASE_ALLOCATION, 1);

    final String contextName;
    final int id;

    MetaContext(String contextName, int id) {
        this.contextName = contextName;
        this.id = id;
    }

    /** Its namespace with the colon: "base:". */
    String namespace() {
        return contextName.substring(0, contextName.indexOf(':') + 1);
    }

    /** The data of an NBD_REP_META_CONTEXT reply naming it with {@code contextId} (0 in a LIST reply, as the spec asks). */
    ByteBuffer reply(int contextId) {
        byte[] name = contextName.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + name.length).putInt(contextId).put(name).flip();
    }
}
