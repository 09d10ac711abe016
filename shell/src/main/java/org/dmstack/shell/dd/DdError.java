package org.dmstack.shell.dd;

/** A copy that cannot go on: the reason, in the words dd prints after "dd: error reading 'X': ". */
final class DdError extends Exception {
    private static final long serialVersionUID = 1L;

    DdError(String message) {
        super(message);
    }

    /** A device I/O that failed: "Input/output error", with the status the device gave. */
    static DdError io(DeviceIo.IoError e) {
        return new DdError("Input/output error (" + e.getMessage() + ")");
    }
}
