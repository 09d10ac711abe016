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

    /**
     * The arguments to read front to back with the kernel's helpers and scanners (dm_arg_set):
     * a fresh reader at the first argument each time it is called.
     */
    default TargetArgs argSet() {
        return new TargetArgs(args(), this::getDevice);
    }

    /**
     * dm_table_event: what a target runs when something happened that watchers of the device
     * should notice (dm-stripe: a stripe's device failed). While the table is live, each run
     * raises the mapped device's event number ({@code dmsetup info}); otherwise it does nothing.
     */
    default Runnable tableEvent() {
        return () -> {};
    }

    /** Finds a device by the name or number a table line gives (dm_get_device's lookup). */
    @FunctionalInterface
    interface DeviceLookup {
        BlockDevice get(String path) throws TargetException;
    }

    /**
     * The context of one table line, with devices found by {@code lookup}: what core hands a
     * constructor, and what a test harness can hand it without device-mapper.
     */
    static TargetContext of(String mappedDeviceName, TableLine line, DeviceLookup lookup) {
        return of(mappedDeviceName, line, lookup, () -> {});
    }

    /** {@link #of(String, TableLine, DeviceLookup)} whose {@link #tableEvent()} is {@code event}. */
    static TargetContext of(String mappedDeviceName, TableLine line, DeviceLookup lookup, Runnable event) {
        return new TargetContext() {
            @Override
            public Runnable tableEvent() {
                return event;
            }

            @Override
            public long begin() {
                return line.start();
            }

            @Override
            public long length() {
                return line.length();
            }

            @Override
            public List<String> args() {
                return line.args();
            }

            @Override
            public String mappedDeviceName() {
                return mappedDeviceName;
            }

            @Override
            public BlockDevice getDevice(String path) throws TargetException {
                return lookup.get(path);
            }
        };
    }
}
