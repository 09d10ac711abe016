package org.dmstack.dm;

/**
 * A device-mapper operation that was refused: the sentence says why, in the kernel's or
 * dmsetup's words where they have them, naming the table line when a line is at fault. A refused
 * operation has changed nothing.
 */
public final class DmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String missingDevice;
    private final int malformedLine;
    private final String errno;

    public DmException(String message) {
        this(message, (Throwable) null);
    }

    public DmException(String message, Throwable cause) {
        this(message, cause, null, 0, null);
    }

    private DmException(String message, Throwable cause, String missingDevice, int malformedLine, String errno) {
        super(message, cause);
        this.missingDevice = missingDevice;
        this.malformedLine = malformedLine;
        this.errno = errno;
    }

    /**
     * No mapped device is called {@code name}: the kernel's ENXIO, which each tool words its own
     * way (dmsetup by the command it ran), so the name travels with it.
     */
    public static DmException noSuchDevice(String name) {
        return new DmException("Device " + name + " not found", null, name, 0, null);
    }

    /**
     * Table line {@code line} is not {@code <start> <length> <target> [<args>]}: dmsetup itself
     * refuses such a table ("Invalid format on line N"), before the kernel sees it.
     */
    static DmException malformedLine(int line, String message) {
        return new DmException(message, null, null, line, null);
    }

    /**
     * The kernel refused a table (table_load): {@code errno} is what the ioctl failed with, in
     * strerror's words ("Invalid argument"; "No such device" where a device named by a path was
     * not found), the message what 6.1 writes to the kernel log, naming the line.
     */
    static DmException tableRefused(String message, String errno, Throwable cause) {
        return new DmException(message, cause, null, 0, errno);
    }

    /** The name that was looked up when this is {@link #noSuchDevice}, else null. */
    public String missingDevice() {
        return missingDevice;
    }

    /** The table line dmsetup could not read (1-based), else 0. */
    public int malformedLine() {
        return malformedLine;
    }

    /** What the kernel's refusal of a table failed with, in strerror's words, else null. */
    public String errno() {
        return errno;
    }
}
