package org.dmstack.dm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;

/**
 * A constructed table: its targets in sector order, the devices they hold, and what the table
 * can do (queue limits, write cache, FUA, DAX), all decided once at load time (dm-table.c).
 */
final class DmTable {
    /** Finds devices for targets, taking a reference on each handle it gives out. */
    interface DeviceResolver {
        DeviceHandle get(String path) throws TargetException;
    }

    final List<TableLine> lines;
    final TargetType[] types;
    final Target[] targets;
    final long[] begins;
    // Per target, read by every bio: where it ends, and its max_io_len (0 for none), with the mask
    // that replaces a division when that is a power of two, as it always is for dm-stripe's chunks.
    private final long[] ends;
    private final long[] maxIo;
    private final long[] maxIoMask;
    final long size;
    /** The devices used, in dm's deps order (most recently first used first). */
    final List<DeviceHandle> devices;
    final QueueLimits limits;
    /** Each target's own limits, for checking its device areas against them (dm_calculate_queue_limits). */
    private final List<QueueLimits> targetLimits;
    final boolean writeCache;
    final boolean fua;
    final boolean dax;
    final boolean daxWriteCache;
    /** What the targets' table events call: the mapped device's event counter while this table is live, else nothing. */
    private final AtomicReference<Runnable> events;

    private DmTable(List<TableLine> lines, TargetType[] types, Target[] targets, List<QueueLimits> targetLimits, List<DeviceHandle> devices,
            AtomicReference<Runnable> events) {
        this.events = events;
        this.lines = lines;
        this.types = types;
        this.targets = targets;
        this.begins = lines.stream().mapToLong(TableLine::start).toArray();
        this.ends = lines.stream().mapToLong(l -> l.start() + l.length()).toArray();
        this.maxIo = Arrays.stream(targets).mapToLong(Target::maxIoLen).toArray();
        this.maxIoMask = Arrays.stream(maxIo).map(m -> m > 0 && Long.bitCount(m) == 1 ? m - 1 : -1).toArray();
        this.size = lines.isEmpty() ? 0 : lines.getLast().start() + lines.getLast().length();
        this.devices = devices;
        this.targetLimits = targetLimits;
        this.limits = computeLimits(targetLimits);
        boolean allDax = true, daxWc = false;
        for (DeviceHandle d : devices) {
            allDax &= d.daxCapable();
            daxWc |= d.daxWriteCache();
        }
        for (Target t : targets) allDax &= t.supportsDax();
        this.writeCache = supportsFlush(BlockDevice::writeCache);
        this.fua = writeCache && supportsFlush(BlockDevice::fua);
        this.dax = allDax && targets.length > 0;
        this.daxWriteCache = daxWc;
        limits.setDax(dax);
    }

    /**
     * Constructs every line's target (populate_table), then, with {@code checkAreas}, checks the
     * areas they use (dm_setup_md_queue does for a device's first table; later tables are checked
     * when they are resumed). Either the whole table is built, or every target made so far is
     * destroyed and a DmException names the line and the reason.
     */
    static DmTable build(String mdName, List<TableLine> lines, TargetTypes types, DeviceResolver resolver, Runnable releaseDevices, boolean checkAreas) {
        List<Target> built = new ArrayList<>();
        List<TargetType> builtTypes = new ArrayList<>();
        List<QueueLimits> builtLimits = new ArrayList<>();
        Map<DevT, DeviceHandle> used = new LinkedHashMap<>();
        AtomicReference<Runnable> events = new AtomicReference<>();
        String[] failedLookup = new String[1];
        Runnable tableEvent = () -> {
            Runnable callback = events.get();
            if (callback != null) callback.run();
        };
        try {
            long next = 0;
            for (TableLine line : lines) {
                TargetType type = types.get(line.type());
                if (type == null) throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": unknown target type");
                if (line.start() != next) {
                    String why = line.start() > next
                            ? (next == 0 && built.isEmpty() ? "the first target must start at sector 0, not " + line.start()
                                    : "sectors " + next + " to " + (line.start() - 1) + " are not mapped")
                            : "targets overlap: this one starts at sector " + line.start() + " but the one before ends at " + next;
                    throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": Gap in table (" + why + ")");
                }
                Target target;
                try {
                    target = type.construct(TargetContext.of(mdName, line, path -> {
                        DeviceHandle h;
                        try {
                            h = resolver.get(path);
                        } catch (TargetException e) {
                            failedLookup[0] = path;
                            throw e;
                        }
                        used.remove(h.devt());
                        used.put(h.devt(), h);
                        return h;
                    }, tableEvent));
                } catch (TargetException e) {
                    throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": " + e.getMessage(), e);
                } catch (RuntimeException e) {
                    throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": constructor failed: " + e, e);
                }
                built.add(target);
                builtTypes.add(type);
                builtLimits.add(targetLimits(target));
                next = line.start() + line.length();
            }
            List<DeviceHandle> deps = new ArrayList<>(used.values());
            Collections.reverse(deps);
            DmTable table = new DmTable(List.copyOf(lines), builtTypes.toArray(TargetType[]::new), built.toArray(Target[]::new), builtLimits, deps, events);
            if (checkAreas) table.checkAreas();
            return table;
        } catch (RuntimeException e) {
            for (Target t : built) destroyQuietly(t);
            releaseDevices.run();
            if (e instanceof DmException refused && refused.errno() == null && refused.malformedLine() == 0) {
                throw DmException.tableRefused(refused.getMessage(), errno(failedLookup[0]), refused.getCause());
            }
            throw e;
        }
    }

    /**
     * What table_load fails with: dm_get_device's ENODEV for a path it cannot resolve, ENXIO
     * (blkdev_get_by_dev) for a major:minor with no device, EINVAL for everything else.
     */
    private static String errno(String failedLookup) {
        if (failedLookup == null) return TableLine.INVALID;
        return failedLookup.matches("\\d+:\\d+") ? "No such device or address" : "No such device";
    }

    /** dm_table_event_callback: table events go to {@code callback} from now on (null: nowhere), as __bind and __unbind set it. */
    void bindEvents(Runnable callback) {
        events.set(callback);
    }

    /** The device area checks of dm_calculate_queue_limits, target by target; a DmException names the first bad line. */
    void checkAreas() {
        for (int i = 0; i < targets.length; i++) checkDeviceAreas(lines.get(i), targets[i], targetLimits.get(i));
        validateHardwareLogicalBlockAlignment();
    }

    /**
     * validate_hardware_logical_block_alignment: a bio aligned to the table's logical block size
     * that runs past a target's end must be aligned to the next target's own block size, and the
     * targets together must end on a block boundary. It matters where a target without devices
     * (zero, error) meets one on larger blocks. Like 6.1 it names "table line" i, the 0-based
     * index of the target that failed or, when only the end is unaligned, the number of targets.
     */
    private void validateHardwareLogicalBlockAlignment() {
        long blockSectors = limits.logicalBlockSize() >> Units.SECTOR_SHIFT;
        long nextTargetStart = 0, remaining = 0;
        int i;
        for (i = 0; i < targets.length; i++) {
            QueueLimits ti = QueueLimits.stacking();
            targets[i].iterateDevices((device, start, length) -> ti.stack(device.limits(), start));
            long length = lines.get(i).length();
            if (Long.compareUnsigned(remaining, length) < 0 && (remaining & ((ti.logicalBlockSize() >> Units.SECTOR_SHIFT) - 1)) != 0) break;
            nextTargetStart = (nextTargetStart + length) & (blockSectors - 1);
            remaining = nextTargetStart != 0 ? blockSectors - nextTargetStart : 0;
        }
        if (remaining != 0) {
            TableLine l = lines.get(Math.min(i, targets.length - 1));
            throw new DmException("table line " + i + " (start sect " + Long.toUnsignedString(l.start()) + " len " + Long.toUnsignedString(l.length())
                    + ") not aligned to h/w logical block size " + limits.logicalBlockSize());
        }
    }

    /**
     * device_area_is_invalid: every area a target uses must lie inside its device (sectors compared
     * and printed unsigned, as the kernel's sector_t) and be aligned to the target's logical block
     * size. A device of size 0 is not checked, as in Linux.
     */
    private static void checkDeviceAreas(TableLine line, Target target, QueueLimits ti) {
        target.iterateDevices((device, start, length) -> {
            long deviceSize = device.capacity();
            if (deviceSize == 0) return;
            if (Long.compareUnsigned(start, deviceSize) >= 0 || Long.compareUnsigned(start + length, deviceSize) > 0) {
                throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": " + device.name() + " too small for target: start="
                        + Long.toUnsignedString(start) + ", len=" + Long.toUnsignedString(length) + ", dev_size=" + deviceSize);
            }
            int lbs = ti.logicalBlockSize();
            long lbsSectors = lbs >> Units.SECTOR_SHIFT;
            if ((start & (lbsSectors - 1)) != 0) {
                throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": start=" + Long.toUnsignedString(start)
                        + " not aligned to h/w logical block size " + lbs + " of " + device.name());
            }
            if ((length & (lbsSectors - 1)) != 0) {
                throw new DmException("line " + line.lineNumber() + ": " + line.type() + ": len=" + Long.toUnsignedString(length)
                        + " not aligned to h/w logical block size " + lbs + " of " + device.name());
            }
        });
    }

    /** A target's own limits (dm_calculate_queue_limits): its devices' limits stacked at the areas it uses, then its io hints. */
    private static QueueLimits targetLimits(Target target) {
        QueueLimits ti = QueueLimits.stacking();
        target.iterateDevices((device, start, length) -> ti.stack(device.limits(), start));
        target.ioHints(ti);
        return ti;
    }

    /**
     * dm_calculate_queue_limits then dm_table_set_restrictions: the targets' limits stacked,
     * without discard or write-zeroes offload unless every target and every device under it has it.
     */
    private QueueLimits computeLimits(List<QueueLimits> targetLimits) {
        QueueLimits table = QueueLimits.stacking();
        for (QueueLimits ti : targetLimits) table.stack(ti, 0);
        if (!allDevices(Target::numDiscardBios, Target::discardsSupported, d -> d.limits().maxDiscardSectors() != 0)) table.clearDiscard();
        if (!allDevices(Target::numWriteZeroesBios, t -> false, d -> d.limits().maxWriteZeroesSectors() != 0)) table.setMaxWriteZeroesSectors(0);
        return table;
    }

    /**
     * dm_table_supports_flush: some target that takes flushes either asks for them itself
     * (flush_supported) or has a device under it, among those it iterates, that can.
     */
    private boolean supportsFlush(Predicate<BlockDevice> capable) {
        for (Target t : targets) {
            if (t.numFlushBios() == 0) continue;
            if (t.flushSupported()) return true;
            boolean[] any = {false};
            t.iterateDevices((device, start, length) -> any[0] |= capable.test(device));
            if (any[0]) return true;
        }
        return false;
    }

    /**
     * dm_table_supports_discards and _write_zeroes: every target takes such bios and uses devices,
     * and every one of those devices can; a target that handles discards itself
     * (discards_supported) needs no device that can.
     */
    private boolean allDevices(ToIntFunction<Target> bios, Predicate<Target> handlesItself, Predicate<BlockDevice> capable) {
        for (Target t : targets) {
            if (bios.applyAsInt(t) == 0) return false;
            if (handlesItself.test(t)) continue;
            boolean[] any = {false}, all = {true};
            t.iterateDevices((device, start, length) -> {
                any[0] = true;
                all[0] &= capable.test(device);
            });
            if (!any[0] || !all[0]) return false;
        }
        return true;
    }

    /** The index of the target that holds {@code sector} (which must be below {@link #size}). */
    int findTarget(long sector) {
        // One target is the common table; Arrays.binarySearch is a call the JIT does not inline.
        if (begins.length == 1) return 0;
        int i = Arrays.binarySearch(begins, sector);
        return i >= 0 ? i : -i - 2;
    }

    /** How many sectors from {@code sector} stay inside target {@code i} and its max_io_len boundary. */
    long maxIoLen(int i, long sector) {
        long len = ends[i] - sector;
        long max = maxIo[i];
        if (max > 0) {
            long offset = sector - begins[i];
            long mask = maxIoMask[i];
            len = Math.min(len, max - (mask >= 0 ? offset & mask : offset % max));
        }
        return len;
    }

    void destroy() {
        for (Target t : targets) destroyQuietly(t);
    }

    private static void destroyQuietly(Target t) {
        try {
            t.destroy();
        } catch (RuntimeException ignored) {
            // A destructor that fails must not keep the rest of the table alive.
        }
    }

    /** dmsetup table / status lines. */
    String format(StatusType type) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < targets.length; i++) {
            TableLine l = lines.get(i);
            sb.append(TableLine.format(l.start(), l.length(), types[i].name(), targets[i].status(type))).append('\n');
        }
        return sb.toString();
    }

    boolean uses(TargetType type) {
        for (TargetType t : types) if (t == type) return true;
        return false;
    }
}
