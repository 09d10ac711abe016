package org.dmstack.dm;

/** Why a target could not be constructed or a message not handled: a sentence in the kernel's words. */
public class TargetException extends Exception {
    private static final long serialVersionUID = 1L;

    public TargetException(String message) {
        super(message);
    }

    /** A message that wraps a lower reason, printed as "message: cause". */
    public TargetException(String message, Throwable cause) {
        super(message + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage()), cause);
    }
}
