package org.dmstack.dax;

/** A DAX call that could not be done, with the errno Linux would return and a sentence why. */
public final class DaxException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public enum Errno {
        /** A media error (bad blocks) in the range. */
        EIO,
        /** The page offset is outside the device. */
        ERANGE,
        /** Bad arguments: negative counts. */
        EINVAL,
        /** The device is gone (killed, or its driver stopped). */
        ENXIO,
        /** The device (or a device under a table) cannot do DAX. */
        EOPNOTSUPP,
        /** A write to a read-only device (a file system on it is mounted read-only). */
        EROFS,
        /** A copy that moved nothing (dax_iomap_iter: poison at the first byte read, an unrepairable write). */
        EFAULT
    }

    private final Errno errno;

    public DaxException(Errno errno, String message) {
        super(message);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    @Override
    public String toString() {
        return errno + ": " + getMessage();
    }
}
