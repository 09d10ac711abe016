package org.dmstack.shell;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.dmstack.block.DevT;
import org.dmstack.dm.DeviceInfo;
import org.dmstack.dm.TargetVersion;

/**
 * dmsetup's printed forms of what device-mapper returns (LVM2's dmsetup.c: _display_info_long,
 * _display_name, _display_tree, _deps, _targets). Device-mapper itself only returns records.
 */
final class DmsetupOutput {
    /** What dmsetup prints when a command that lists every device finds none. */
    static final String NO_DEVICES = "No devices found\n";

    private DmsetupOutput() {}

    /**
     * {@code dmsetup info NAME}: the long form, ending with a blank line as dmsetup's does.
     *
     * @param readAhead the device's read-ahead in sectors (BLKRAGET: its read_ahead_kb x 2)
     */
    static String info(DeviceInfo i, long readAhead) {
        String tables = !i.liveTable() && !i.inactiveTable() ? "None"
                : (i.liveTable() ? "LIVE" : "") + (i.liveTable() && i.inactiveTable() ? " & " : "") + (i.inactiveTable() ? "INACTIVE" : "");
        StringBuilder sb = new StringBuilder();
        sb.append("Name:              ").append(i.name()).append('\n');
        sb.append("State:             ").append(i.suspended() ? "SUSPENDED" : "ACTIVE").append(i.readOnly() ? " (READ-ONLY)" : "")
                .append(i.deferredRemove() ? " (DEFERRED REMOVE)" : "").append('\n');
        sb.append("Read Ahead:        ").append(readAhead).append('\n');
        sb.append("Tables present:    ").append(tables).append('\n');
        sb.append("Open count:        ").append(i.openCount()).append('\n');
        sb.append("Event number:      ").append(i.eventNumber()).append('\n');
        sb.append("Major, minor:      ").append(i.devt().major()).append(", ").append(i.devt().minor()).append('\n');
        sb.append("Number of targets: ").append(i.targetCount()).append('\n');
        if (i.uuid() != null && !i.uuid().isEmpty()) sb.append("UUID: ").append(i.uuid()).append('\n');
        return sb.append('\n').toString();
    }

    /** {@code dmsetup ls}: "NAME\t(MAJOR:MINOR)" per device. */
    static String ls(List<DeviceInfo> devices) {
        return ls(devices, null);
    }

    /**
     * {@code dmsetup ls -o ...} (_display_name): "NAME\t(MAJOR:MINOR)" per device, or the
     * device as {@code name} names it, where it has a name.
     */
    static String ls(List<DeviceInfo> devices, Function<DevT, String> name) {
        if (devices.isEmpty()) return NO_DEVICES;
        StringBuilder sb = new StringBuilder();
        for (DeviceInfo i : devices) sb.append(i.name()).append("\t(").append(named(i.devt(), name, i.devt().toString())).append(")\n");
        return sb.toString();
    }

    /** What {@code name} calls a device, or {@code otherwise} without a name for it (dm_device_get_name failing). */
    private static String named(DevT devt, Function<DevT, String> name, String otherwise) {
        String n = name == null ? "" : name.apply(devt);
        return n.isEmpty() ? otherwise : n;
    }

    /**
     * {@code dmsetup ls --tree}: each device no other uses, with what it is built on below it;
     * devices that are not mapped devices show only their numbers.
     */
    static String tree(List<DeviceInfo> devices, Map<DevT, List<DevT>> deps) {
        if (devices.isEmpty()) return NO_DEVICES;
        List<DevT> used = new ArrayList<>();
        deps.values().forEach(used::addAll);
        StringBuilder sb = new StringBuilder();
        for (DeviceInfo i : devices) {
            if (used.contains(i.devt())) continue;
            sb.append(i.name()).append(" (").append(i.devt()).append(")\n");
            tree(sb, i.devt(), " ", devices, deps);
        }
        return sb.toString();
    }

    private static void tree(StringBuilder sb, DevT top, String prefix, List<DeviceInfo> devices, Map<DevT, List<DevT>> deps) {
        List<DevT> below = deps.getOrDefault(top, List.of());
        for (int n = 0; n < below.size(); n++) {
            boolean last = n == below.size() - 1;
            DevT d = below.get(n);
            String name = devices.stream().filter(i -> i.devt().equals(d)).map(DeviceInfo::name).findFirst().orElse("");
            sb.append(prefix).append(last ? "└─" : "├─").append(name).append(" (").append(d).append(")\n");
            tree(sb, d, prefix + (last ? "   " : "│  "), devices, deps);
        }
    }

    /** {@code dmsetup deps NAME}: "N dependencies\t: (MAJOR, MINOR) ...". */
    static String deps(List<DevT> deps) {
        return deps(deps, null);
    }

    /** {@code dmsetup deps -o ...}: each device as {@code name} names it, or "(MAJOR, MINOR)" without a name. */
    static String deps(List<DevT> deps, Function<DevT, String> name) {
        StringBuilder sb = new StringBuilder().append(deps.size()).append(" dependencies\t:");
        for (DevT d : deps) sb.append(" (").append(named(d, name, d.major() + ", " + d.minor())).append(')');
        return sb.append('\n').toString();
    }

    /** {@code dmsetup targets}: name padded to 16, then "vMAJOR.MINOR.PATCH". */
    static String targets(List<TargetVersion> targets) {
        StringBuilder sb = new StringBuilder();
        for (TargetVersion t : targets) sb.append(String.format(Locale.ROOT, "%-16s v%d.%d.%d%n", t.name(), t.major(), t.minor(), t.patch()));
        return sb.toString().replace("\r\n", "\n");
    }
}
