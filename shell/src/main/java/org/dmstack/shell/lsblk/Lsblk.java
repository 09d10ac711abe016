package org.dmstack.shell.lsblk;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.shell.Cli;
import org.dmstack.shell.CommandException;
import org.dmstack.shell.Devices;
import org.dmstack.shell.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lsblk}: the devices as a tree, each disk with the mapped devices stacked on it below it
 * (a mapped device over several disks appears under each), with util-linux 2.38's columns, list
 * ({@code -l}) and JSON ({@code -J}) output.
 *
 * <pre>
 * NAME    MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
 * ram0      1:0    0  16M  0 disk
 * └─lv0   254:0    0   8M  0 dm
 * </pre>
 */
@Command(name = "lsblk", description = "List block devices: each disk with the mapped devices stacked on it.")
public final class Lsblk implements Runnable {
    @Mixin
    HelpOption help;
    @Option(names = {"-b", "--bytes"}, description = "Print sizes in bytes.")
    boolean bytes;
    @Option(names = {"-J", "--json"}, description = "Use JSON output.")
    boolean json;
    @Option(names = {"-l", "--list"}, description = "Use list format output.")
    boolean list;
    @Option(names = {"-n", "--noheadings"}, description = "Do not print headings.")
    boolean noHeadings;
    @Option(names = {"-o", "--output"}, paramLabel = "<list>",
            description = "Output columns, comma-separated (+list adds to the default " + Column.DEFAULT + ").")
    String output;
    @Parameters(paramLabel = "<device>", description = "ram0, /dev/ram0, dm-0, lv0, /dev/mapper/lv0 or 1:0.")
    List<String> names = List.of();

    private final BlockDeviceRegistry registry;
    private PrintStream out;

    public Lsblk(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    /** Runs one lsblk command line (without the word "lsblk"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        this.out = out;
        Cli.run(new CommandLine(this), args, out);
    }

    @Override
    public void run() {
        List<Column> columns = columns();
        List<BlockDevice> all = registry.devices();
        List<BlockDevice> roots = new ArrayList<>();
        for (String name : names) {
            BlockDevice d = Devices.find(registry, name);
            if (d == null) throw new CommandException("lsblk: " + name + ": not a block device");
            roots.add(d);
        }
        if (roots.isEmpty()) {
            for (BlockDevice d : all) if (slaves(d, all).isEmpty()) roots.add(d);
        }
        List<Node> tree = new ArrayList<>();
        for (BlockDevice root : roots) tree.add(node(root, null, all));
        // --list prints each device once, where the walk first meets it (lsblk's is_printed).
        List<Node> lines = list ? flatten(tree, new ArrayList<>(), new HashSet<>()) : tree;
        out.print(json ? json(lines, columns) : text(lines, columns));
    }

    private List<Column> columns() {
        String spec = output == null ? Column.DEFAULT : output.startsWith("+") ? Column.DEFAULT + "," + output.substring(1) : output;
        List<Column> columns = new ArrayList<>();
        for (String name : spec.split(",")) {
            Column c = Column.byName(name.trim());
            if (c == null) throw new CommandException("lsblk: unknown column: " + name.trim());
            columns.add(c);
        }
        return columns;
    }

    /** The devices {@code d} is built on (sysfs slaves/). */
    private List<BlockDevice> slaves(BlockDevice d, List<BlockDevice> all) {
        List<BlockDevice> slaves = new ArrayList<>();
        for (BlockDevice other : all) if (registry.holders(other.devt()).contains(d.devt())) slaves.add(other);
        return slaves;
    }

    private Node node(BlockDevice d, BlockDevice parent, List<BlockDevice> all) {
        Set<DevT> holderNumbers = registry.holders(d.devt());
        List<Node> children = new ArrayList<>();
        for (BlockDevice other : all) if (holderNumbers.contains(other.devt())) children.add(node(other, d, all));
        return new Node(d, parent, children);
    }

    private static List<Node> flatten(List<Node> nodes, List<Node> into, Set<DevT> seen) {
        for (Node n : nodes) {
            if (seen.add(n.device().devt())) into.add(new Node(n.device(), n.parent(), List.of()));
            flatten(n.children(), into, seen);
        }
        return into;
    }

    private String text(List<Node> lines, List<Column> columns) {
        TextTable table = new TextTable(columns, !noHeadings);
        for (Node n : lines) addText(table, n, "", "", columns);
        return table.text();
    }

    /** @param art the branch drawn before this device; {@code indent} what its children inherit */
    private void addText(TextTable table, Node n, String art, String indent, List<Column> columns) {
        String[] cells = new String[columns.size()];
        for (int i = 0; i < cells.length; i++) {
            Column c = columns.get(i);
            String value = c.value(n.device(), n.parent(), bytes, false);
            cells[i] = c == Column.NAME ? art + value : value;
        }
        table.add(cells);
        for (int i = 0; i < n.children().size(); i++) {
            boolean last = i == n.children().size() - 1;
            addText(table, n.children().get(i), indent + (last ? "└─" : "├─"), indent + (last ? "  " : "│ "), columns);
        }
    }

    private String json(List<Node> lines, List<Column> columns) {
        JsonWriter w = new JsonWriter();
        w.openObject(null);
        w.openArray("blockdevices");
        for (Node n : lines) addJson(w, n, columns);
        w.closeArray();
        w.closeObject();
        return w.text();
    }

    private void addJson(JsonWriter w, Node n, List<Column> columns) {
        w.openObject(null);
        for (Column c : columns) {
            String name = c.header;
            String value = c.value(n.device(), n.parent(), bytes, true);
            switch (c.type) {
                case STRING -> w.string(name, value);
                case NUMBER -> w.raw(name, value);
                case SIZE -> {
                    if (bytes) w.raw(name, value);
                    else w.string(name, value);
                }
                case BOOLEAN -> w.bool(name, !value.isEmpty() && !value.equals("0") && !value.startsWith("N") && !value.startsWith("n"));
                case ARRAY -> {
                    w.openArray(name);
                    w.string(null, value);
                    w.closeArray();
                }
            }
        }
        if (!n.children().isEmpty()) {
            w.openArray("children");
            for (Node child : n.children()) addJson(w, child, columns);
            w.closeArray();
        }
        w.closeObject();
    }
}
