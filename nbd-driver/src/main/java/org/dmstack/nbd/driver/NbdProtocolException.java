package org.dmstack.nbd.driver;

import java.io.IOException;

/**
 * The server said something the protocol does not allow (a wrong magic, an unknown handle, a
 * chunk outside its request). The connection is closed and treated as broken: nothing read from
 * it after that point is trusted as data.
 */
final class NbdProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    NbdProtocolException(String message) {
        super(message);
    }
}
