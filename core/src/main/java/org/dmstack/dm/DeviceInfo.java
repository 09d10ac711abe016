package org.dmstack.dm;

import org.dmstack.block.DevT;

/**
 * What device-mapper knows of one mapped device at a moment, as Linux's DM_DEV_STATUS ioctl
 * returns it in {@code struct dm_ioctl} (name, uuid, dev, the SUSPEND, ACTIVE_PRESENT and
 * INACTIVE_PRESENT, READONLY and DEFERRED_REMOVE flags, open_count, event_nr, target_count). Tools print it; see the shell's
 * {@code dmsetup info}.
 *
 * @param uuid the device's uuid, or null when it was created without one
 * @param openCount how many have the device open (dm_open_count): each mapped device stacked on it once, and every
 *     other opener (an NBD client's connection, dd while it copies)
 * @param targetCount the number of targets in the live table (0 without one)
 * @param readOnly whether the device has a live table and is read-only (DM_READONLY_FLAG: get_disk_ro)
 * @param deferredRemove whether the device goes once nothing uses it (dmsetup remove --deferred)
 */
public record DeviceInfo(String name, String uuid, DevT devt, boolean suspended, boolean liveTable, boolean inactiveTable,
        int openCount, int eventNumber, int targetCount, boolean readOnly, boolean deferredRemove) {
    /** A read-write device not marked for deferred removal. */
    public DeviceInfo(String name, String uuid, DevT devt, boolean suspended, boolean liveTable, boolean inactiveTable,
            int openCount, int eventNumber, int targetCount) {
        this(name, uuid, devt, suspended, liveTable, inactiveTable, openCount, eventNumber, targetCount, false, false);
    }
}
