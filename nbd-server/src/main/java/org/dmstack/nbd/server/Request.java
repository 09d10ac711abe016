package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.CMD_FLAG_FUA;
import org.dmstack.nbd.protocol.Nbd;

/** One transmission request as it arrived: flags, command, the client's handle, offset and length. */
record Request(int flags, int type, long handle, long offset, long length) {
    boolean fua() {
        return (flags & CMD_FLAG_FUA) != 0;
    }

    String command() {
        return Nbd.commandName(type);
    }
}
