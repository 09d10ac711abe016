package org.dmstack.dm;

import java.util.List;
import org.dmstack.block.BlockDevice;
import org.osgi.annotation.versioning.ProviderType;

/** What a target's constructor is given: where it sits in the table, its arguments, and devices. */
@ProviderType
public interface TargetContext {
    /** First sector of the target in the mapped device. */
    long begin();

    /** Length of the target in sectors (never 0). */
    long length();

    /** The arguments after the target type on its table line. */
    List<String> args();

    /** The mapped device's name, for messages. */
    String mappedDeviceName();

    /**
     * dm_get_device: a device by name ("ram0", "/dev/ram0", a dm name) or "major:minor". The
     * handle stays valid while the table exists: when the device under it goes away (its driver
     * is updated), I/O submitted to the handle is held until it comes back or the hold time runs
     * out. {@link BlockDevice#devt()} is what table output prints.
     *
     * @throws TargetException when there is no such device; its message names the device
     */
    BlockDevice getDevice(String path) throws TargetException;
}
