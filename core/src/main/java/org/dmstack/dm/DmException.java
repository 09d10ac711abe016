package org.dmstack.dm;

/**
 * A device-mapper operation that was refused: the sentence says why, in the kernel's or
 * dmsetup's words where they have them, naming the table line when a line is at fault. A refused
 * operation has changed nothing.
 */
public final class DmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String missingDevice;

    public DmException(String message) {
        this(message, (Throwable) null);
    }

    public DmException(String message, Throwable cause) {
        super(message, cause);
        this.missingDevice = null;
    }

    private DmException(String message, String missingDevice) {
        super(message);
        this.missingDevice = missingDevice;
    }

    /**
     * No mapped device is called {@code name}: the kernel's ENXIO, which each tool words its own
     * way (dmsetup by the command it ran), so the name travels with it.
     */
    public static DmException noSuchDevice(String name) {
        return new DmException("Device " + name + " not found", name);
    }

    /** The name that was looked up when this is {@link #noSuchDevice}, else null. */
    public String missingDevice() {
        return missingDevice;
    }
}
