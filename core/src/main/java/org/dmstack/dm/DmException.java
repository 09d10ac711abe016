package org.dmstack.dm;

/**
 * A device-mapper operation that was refused: the sentence says why, in the kernel's or
 * dmsetup's words where they have them, naming the table line when a line is at fault. A refused
 * operation has changed nothing.
 */
public final class DmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DmException(String message) {
        super(message);
    }

    public DmException(String message, Throwable cause) {
        super(message, cause);
    }
}
