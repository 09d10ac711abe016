package org.dmstack.nbd.server;

import java.io.IOException;

/** A breach of the protocol that ends the session with a hard disconnect. */
final class ProtocolError extends IOException {
    ProtocolError(String message) {
        super(message);
    }
}
