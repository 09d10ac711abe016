package org.dmstack.block;

/**
 * How a bio ended: a code like Linux's blk_status_t and, for errors, a sentence that says what
 * went wrong and where.
 */
public record BlkStatus(Code code, String message) {
    public enum Code {
        /** BLK_STS_OK */
        OK,
        /** BLK_STS_IOERR: the device could not do it (media error, device gone, beyond its end). */
        IOERR,
        /** BLK_STS_INVAL: the request itself is wrong (misaligned, empty). */
        INVAL,
        /** BLK_STS_NOTSUPP: the device does not support the operation. */
        NOTSUPP
    }

    public static final BlkStatus OK = new BlkStatus(Code.OK, "");

    public static BlkStatus ioerr(String message) {
        return new BlkStatus(Code.IOERR, message);
    }

    public static BlkStatus inval(String message) {
        return new BlkStatus(Code.INVAL, message);
    }

    public static BlkStatus notsupp(String message) {
        return new BlkStatus(Code.NOTSUPP, message);
    }

    public boolean isOk() {
        return code == Code.OK;
    }

    @Override
    public String toString() {
        return isOk() ? "OK" : code + ": " + message;
    }
}
