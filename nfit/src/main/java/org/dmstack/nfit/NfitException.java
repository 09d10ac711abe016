package org.dmstack.nfit;

/**
 * A table that cannot be used: the message names the byte offset in the table (when there is one)
 * and the reason, for example {@code "NFIT offset 0x60: memory device map (handle 0x1) names SPA
 * range index 7, but no SPA range has that index"}.
 */
public class NfitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long offset;
    private final String reason;

    /** An error at {@code offset} bytes from the start of the table. */
    public NfitException(long offset, String reason) {
        super("NFIT offset 0x" + Long.toHexString(offset) + ": " + reason);
        this.offset = offset;
        this.reason = reason;
    }

    /** An error that is not about one place in the table (configuration, backing files). */
    public NfitException(String reason) {
        super("NFIT: " + reason);
        this.offset = -1;
        this.reason = reason;
    }

    /** The byte offset in the table the error is about, or -1. */
    public long offset() {
        return offset;
    }

    /** The reason, without the offset. */
    public String reason() {
        return reason;
    }
}
