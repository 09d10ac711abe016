package org.dmstack.dm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A kind of target, known by its table keyword ("linear", "striped"), like Linux's struct
 * target_type. A target bundle registers one as an OSGi service (or, embedded, with
 * {@link DeviceMapper#targetTypes()}); device-mapper finds it by {@link #name()} when a table
 * line names it. Core knows no target by name except its built-in "error" and "zero".
 */
@ConsumerType
public interface TargetType {
    /** The table keyword. */
    String name();

    /** The version dmsetup targets prints, as {major, minor, patch}. */
    default int[] version() {
        return new int[] {1, 0, 0};
    }

    /**
     * The constructor (ctr): called once per table line of this type, when a table is loaded. It
     * parses {@link TargetContext#args()}, takes the devices it needs with
     * {@link TargetContext#getDevice}, and either returns the target or throws a
     * {@link TargetException} whose message says what is wrong, in the kernel's words. Devices it
     * took are released by core when construction fails.
     */
    Target construct(TargetContext context) throws TargetException;
}
