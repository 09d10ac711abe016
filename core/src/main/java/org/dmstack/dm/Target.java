package org.dmstack.dm;

import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.dax.DaxMapping;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One constructed table line: what device-mapper calls for each bio and DAX request that falls
 * in its range. Like Linux's target_type operations, reading this interface tells everything a
 * target can do; the defaults are what dm does for a target that leaves an operation out.
 *
 * <p>Sectors given to a target are sectors of the mapped device; the target knows its own begin.
 */
@ConsumerType
public interface Target {
    /**
     * Called for every bio (a clone, never crossing this target's end or a {@link #maxIoLen()}
     * boundary) and for each of the {@link #numFlushBios()} empty flushes and
     * {@link #numDiscardBios()} discards dm sends, which carry their number in
     * {@code bio.targetBioNr()}. Typically remaps with {@code bio.remap(device, sector)} and
     * returns REMAPPED.
     */
    MapResult map(Bio bio);

    /** Called when a clone this target mapped has completed, before its parent is told. */
    default void endIo(Bio bio, BlkStatus status) {}

    /**
     * Called for dmsetup status (INFO: run-time state, "" when there is none) and dmsetup table
     * (TABLE: the arguments that would construct this target again, devices as major:minor).
     */
    String status(StatusType type);

    /** Called to learn the devices this target uses and which area of each. */
    void iterateDevices(DeviceVisitor visitor);

    /** Called when the table's queue limits are computed, after the devices' limits were stacked. */
    default void ioHints(QueueLimits limits) {}

    /**
     * Bios are split so none crosses a multiple of this many sectors from the target's begin; 0 for
     * none. Read once, when the table is made (Linux's ti->max_io_len, set by the constructor).
     */
    default long maxIoLen() {
        return 0;
    }

    /** How many empty flushes this target gets for one flush of the mapped device (0: none). */
    default int numFlushBios() {
        return 1;
    }

    /** How many clones of a discard this target gets (0: discards are not supported). */
    default int numDiscardBios() {
        return 1;
    }

    /** How many clones of a WRITE_ZEROES this target gets (0: not supported). */
    default int numWriteZeroesBios() {
        return 1;
    }

    /**
     * ti->flush_supported: the mapped device gets a write cache and FUA even when no device under
     * this target has one, so that flushes reach the target (log-writes logs them). Read once,
     * when the table is made; only a target with {@link #numFlushBios()} above 0 counts.
     */
    default boolean flushSupported() {
        return false;
    }

    /**
     * ti->discards_supported: the target handles discards itself, so the mapped device takes them
     * even when a device under it cannot (its {@link #ioHints} then sets the discard limits).
     */
    default boolean discardsSupported() {
        return false;
    }

    /**
     * Called for dmsetup message; returns the text to print (usually ""). A target without
     * messages leaves this out and is refused as dm-ioctl.c refuses a target type with no
     * .message.
     */
    default String message(List<String> args) throws TargetException {
        throw new TargetException("Target type does not support messages");
    }

    /** Called before the table is suspended (new I/O is about to be held). */
    default void presuspend() {}

    /** Called after the table was suspended: no I/O is in flight. */
    default void postsuspend() {}

    /** Called before the table becomes live again. */
    default void resume() {}

    /** The destructor (dtr): the table is gone; devices are released by core. */
    default void destroy() {}

    /** Whether this target can pass DAX through; the table is DAX-capable only when all targets and devices are. */
    default boolean supportsDax() {
        return false;
    }

    /**
     * Called for direct_access at {@code pgoff} (a page of the mapped device inside this target);
     * {@code nrPages} is already clamped to this target's end and max_io_len boundary. A target
     * maps the page onto its device and passes {@code map} on to that device's
     * {@link DaxDevice#directAccess(long, long, DaxMapping)}; the device at the bottom fills it.
     * That is all a target does for DAX: copies and flushes go to the device that owns the memory.
     */
    default void directAccess(long pgoff, long nrPages, DaxMapping map) {
        throw new DaxException(Errno.EOPNOTSUPP, "target does not support DAX");
    }

    /**
     * bdev_dax_pgoff: the page offset on {@code device} of {@code sector}, which must be page
     * aligned.
     */
    static long daxPgoff(BlockDevice device, long sector) {
        if ((sector & (Units.PAGE_SECTORS - 1)) != 0) {
            throw new DaxException(Errno.EIO, device.name() + ": sector " + sector + " is not page aligned for DAX");
        }
        return sector / Units.PAGE_SECTORS;
    }

    /** The DAX device of {@code device}, or EOPNOTSUPP when it has none. */
    static DaxDevice daxDevice(BlockDevice device) {
        DaxDevice dax = device.dax();
        if (dax == null) throw new DaxException(Errno.EOPNOTSUPP, device.name() + " (" + device.devt() + ") does not support DAX");
        return dax;
    }
}
