package org.dmstack.shell;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.units.Units;

/**
 * {@code lsblk}: the devices as a tree, each disk with the mapped devices stacked on it below it
 * (a mapped device over several disks appears under each), in lsblk's columns.
 *
 * <pre>
 * NAME    MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
 * ram0      1:0    0  16M  0 disk
 * └─lv0   254:0    0   8M  0 dm
 * </pre>
 */
public final class Lsblk {
    public static final String USAGE = """
            Usage:
             lsblk [-b] [<device> ...]
            List the block devices as a tree. -b prints sizes in bytes.
            """;

    private final BlockDeviceRegistry registry;

    public Lsblk(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    private record Row(String name, BlockDevice device) {}

    public void run(List<String> args, PrintStream out) {
        boolean bytes = false;
        List<BlockDevice> roots = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("-b") || arg.equals("--bytes")) {
                bytes = true;
            } else if (arg.startsWith("-")) {
                throw CommandException.usage("lsblk: invalid option -- '" + arg + "'", USAGE);
            } else {
                BlockDevice d = Devices.find(registry, arg);
                if (d == null) throw new CommandException("lsblk: " + arg + ": not a block device");
                roots.add(d);
            }
        }
        List<BlockDevice> all = registry.devices();
        if (roots.isEmpty()) {
            for (BlockDevice d : all) if (slaves(d, all).isEmpty()) roots.add(d);
        }
        List<Row> rows = new ArrayList<>();
        for (BlockDevice root : roots) addTree(rows, root, "", "", all);
        print(rows, bytes, out);
    }

    /** The devices {@code d} is built on (sysfs slaves/). */
    private List<BlockDevice> slaves(BlockDevice d, List<BlockDevice> all) {
        List<BlockDevice> slaves = new ArrayList<>();
        for (BlockDevice other : all) if (registry.holders(other.devt()).contains(d.devt())) slaves.add(other);
        return slaves;
    }

    private void addTree(List<Row> rows, BlockDevice d, String branch, String indent, List<BlockDevice> all) {
        rows.add(new Row(indent + branch + Devices.displayName(d), d));
        List<BlockDevice> holders = new ArrayList<>();
        Set<DevT> holderNumbers = registry.holders(d.devt());
        for (BlockDevice other : all) if (holderNumbers.contains(other.devt())) holders.add(other);
        String childIndent = indent + (branch.isEmpty() ? "" : branch.equals("└─") ? "  " : "│ ");
        for (int i = 0; i < holders.size(); i++) {
            addTree(rows, holders.get(i), i == holders.size() - 1 ? "└─" : "├─", childIndent, all);
        }
    }

    private static void print(List<Row> rows, boolean bytes, PrintStream out) {
        List<String[]> cells = new ArrayList<>();
        for (Row r : rows) {
            BlockDevice d = r.device();
            String size = bytes ? Long.toString(d.sizeBytes()) : Units.humanSize(d.sizeBytes());
            String majMin = String.format(Locale.ROOT, "%3d:%-3d", d.devt().major(), d.devt().minor());
            cells.add(new String[] {r.name(), majMin, "0", size, "0", type(d)});
        }
        int[] width = {4, 7, 2, 4, 2, 4};
        for (String[] c : cells) for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], c[i].codePointCount(0, c[i].length()));
        StringBuilder sb = new StringBuilder();
        sb.append(left("NAME", width[0])).append(' ').append(left("MAJ:MIN", width[1])).append(' ').append(right("RM", width[2])).append(' ')
                .append(right("SIZE", width[3])).append(' ').append(right("RO", width[4])).append(' ').append(left("TYPE", width[5])).append(" MOUNTPOINTS\n");
        for (String[] c : cells) {
            sb.append(left(c[0], width[0])).append(' ').append(left(c[1], width[1])).append(' ').append(right(c[2], width[2])).append(' ')
                    .append(right(c[3], width[3])).append(' ').append(right(c[4], width[4])).append(' ').append(left(c[5], width[5])).append(" \n");
        }
        out.print(sb);
    }

    private static String type(BlockDevice d) {
        return d.devt().major() == DevT.DM_MAJOR ? "dm" : "disk";
    }

    private static String left(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.codePointCount(0, s.length())));
    }

    private static String right(String s, int width) {
        return " ".repeat(Math.max(0, width - s.length())) + s;
    }
}
