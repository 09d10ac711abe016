package org.dmstack.shell.lsblk;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
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
 * ({@code -l}), raw ({@code -r}), pairs ({@code -P}) and JSON ({@code -J}) output, sorted by
 * MAJ:MIN. As util-linux's, it leaves out the RAM disks (and what is built only on them) unless
 * {@code -a}, {@code -e} or {@code -I} says otherwise or they are named; a device named that does not
 * exist is reported and the others listed, with exit status 64 (32 when none exists).
 *
 * <pre>
 * NAME    MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
 * ram0      1:0    0  16M  0 disk
 * └─lv0   254:0    0   8M  0 dm
 * </pre>
 */
@Command(name = "lsblk", description = {"List information about block devices.",
        "Not supported: -A -E -M -O -S -T -f -i -m -s -w -x -y -z --sysroot (nothing is mounted, no filesystems, no SCSI)."})
public final class Lsblk implements Runnable {
    /** Exit statuses of util-linux's lsblk when devices are named: none of them found, some not found. */
    static final int ALL_FAILED = 32, SOME_OK = 64;
    /** The RAM disks' major, which lsblk leaves out unless asked for (-a, -e, -I) or named. */
    private static final int RAMDISK_MAJOR = 1;
    private static final Cli.Getopt GETOPT = new Cli.Getopt("lsblk", Set.of(
            "-A", "--noempty", "-E", "--dedup", "-M", "--merge", "-O", "--output-all", "-S", "--scsi", "-T", "--tree",
            "-f", "--fs", "-i", "--ascii", "-m", "--perms", "-s", "--inverse", "-w", "--width", "-x", "--sort",
            "-y", "--shell", "-z", "--zoned", "--sysroot", "-V", "--version"));

    @Mixin
    HelpOption help;
    @Option(names = {"-D", "--discard"}, description = "print discard capabilities")
    boolean discard;
    @Option(names = {"-I", "--include"}, paramLabel = "<list>", description = "show only devices with specified major numbers")
    String include;
    @Option(names = {"-J", "--json"}, description = "use JSON output format")
    boolean json;
    @Option(names = {"-P", "--pairs"}, description = "use key=\"value\" output format")
    boolean pairs;
    @Option(names = {"-a", "--all"}, description = "print all devices")
    boolean all;
    @Option(names = {"-b", "--bytes"}, description = "print SIZE in bytes rather than in human readable format")
    boolean bytes;
    @Option(names = {"-d", "--nodeps"}, description = "don't print slaves or holders")
    boolean nodeps;
    @Option(names = {"-e", "--exclude"}, paramLabel = "<list>", description = "exclude devices by major number (default: RAM disks)")
    String exclude;
    @Option(names = {"-l", "--list"}, description = "use list format output")
    boolean list;
    @Option(names = {"-n", "--noheadings"}, description = "don't print headings")
    boolean noHeadings;
    @Option(names = {"-o", "--output"}, paramLabel = "<list>",
            description = "output columns (+list adds to the default " + Column.DEFAULT + ")")
    String output;
    @Option(names = {"-p", "--paths"}, description = "print complete device path")
    boolean paths;
    @Option(names = {"-r", "--raw"}, description = "use raw output format")
    boolean raw;
    @Option(names = {"-t", "--topology"}, description = "output info about topology")
    boolean topology;
    @Parameters(paramLabel = "<device>", description = "ram0, /dev/ram0, dm-0, lv0, /dev/mapper/lv0 or 1:0")
    List<String> names = List.of();

    private final BlockDeviceRegistry registry;
    private PrintStream out;

    public Lsblk(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    /** Runs one lsblk command line (without the word "lsblk"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        this.out = out;
        Cli.run(new CommandLine(this), args, out, GETOPT);
    }

    @Override
    public void run() {
        exclusive("--json --pairs --raw", json, pairs, raw);
        exclusive("--pairs --list --raw", pairs, list, raw);
        if (exclude != null && include != null) throw tryHelp("mutually exclusive arguments: --include --exclude");
        List<Column> columns = columns();
        Set<Integer> excluded = majors(exclude, all || include != null ? Set.of() : Set.of(RAMDISK_MAJOR));
        Set<Integer> included = majors(include, Set.of());
        List<BlockDevice> all = registry.devices();
        List<BlockDevice> roots = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : names) {
            BlockDevice d = Devices.find(registry, name);
            if (d == null) missing.add("lsblk: " + name + ": not a block device");
            else roots.add(d);
        }
        if (names.isEmpty()) {
            for (BlockDevice d : all) {
                int major = d.devt().major();
                if (excluded.contains(major) || !included.isEmpty() && !included.contains(major)) continue;
                if (slaves(d, all).isEmpty()) roots.add(d);
            }
        }
        // lsblk sorts by MAJ:MIN (sort_id), each level of the tree apart.
        roots.sort(BY_DEVT);
        List<Node> tree = new ArrayList<>();
        for (BlockDevice root : roots) tree.add(node(root, null, all));
        // --list prints each device once, where the walk first meets it (lsblk's is_printed), sorted;
        // --raw and --pairs keep the tree's order (force_tree_order) and its repeats.
        boolean flat = list || raw || pairs;
        List<Node> lines = flat ? flatten(tree, new ArrayList<>(), list ? new HashSet<>() : null) : tree;
        if (list) lines.sort((a, b) -> BY_DEVT.compare(a.device(), b.device()));
        if (json) out.print(json(lines, columns));
        else {
            TextTable table = new TextTable(columns, !noHeadings);
            for (Node n : lines) addText(table, n, "", "", columns, !flat);
            out.print(raw ? table.raw() : pairs ? table.pairs() : table.text());
        }
        if (!missing.isEmpty()) {
            throw new CommandException(String.join("\n", missing), roots.isEmpty() ? ALL_FAILED : SOME_OK);
        }
    }

    private static final Comparator<BlockDevice> BY_DEVT =
            Comparator.comparingInt((BlockDevice d) -> d.devt().major()).thenComparingInt(d -> d.devt().minor());

    private static void exclusive(String names, boolean... given) {
        int n = 0;
        for (boolean g : given) if (g) n++;
        if (n > 1) throw tryHelp("mutually exclusive arguments: " + names);
    }

    private static CommandException tryHelp(String reason) {
        return new CommandException("lsblk: " + reason + "\nTry 'lsblk --help' for more information.");
    }

    /** -e and -I: major numbers, comma-separated (parse_excludes). */
    private static Set<Integer> majors(String list, Set<Integer> none) {
        if (list == null) return none;
        Set<Integer> majors = new HashSet<>();
        for (String n : list.split(",", -1)) {
            if (!n.matches("\\d{1,9}")) throw new CommandException("lsblk: failed to parse list '" + list + "'");
            majors.add(Integer.parseInt(n));
        }
        return majors;
    }

    /** -o, or the columns of -t and -D (in that order, each once), or the default. */
    private List<Column> columns() {
        List<Column> columns = new ArrayList<>();
        if (discard) addUnique(columns, Column.DISCARD);
        if (topology) addUnique(columns, Column.TOPOLOGY);
        if (columns.isEmpty()) addUnique(columns, Column.DEFAULT);
        if (output == null) return columns;
        // -o replaces the columns, +list adds to them (string_add_to_idarray).
        String spec = output.startsWith("+") ? output.substring(1) : output;
        if (!output.startsWith("+")) columns.clear();
        int at = 0;
        for (String name : spec.split(",", -1)) {
            Column c = Column.byName(name);
            // util-linux prints the rest of the list from the name it did not know.
            if (c == null) throw new CommandException("lsblk: unknown column: " + spec.substring(at));
            columns.add(c);
            at += name.length() + 1;
        }
        return columns;
    }

    private static void addUnique(List<Column> columns, String names) {
        for (String name : names.split(",")) {
            Column c = Column.byName(name);
            if (!columns.contains(c)) columns.add(c);
        }
    }

    /** The devices {@code d} is built on (sysfs slaves/). */
    private List<BlockDevice> slaves(BlockDevice d, List<BlockDevice> all) {
        List<BlockDevice> slaves = new ArrayList<>();
        for (BlockDevice other : all) if (registry.holders(other.devt()).contains(d.devt())) slaves.add(other);
        return slaves;
    }

    private Node node(BlockDevice d, BlockDevice parent, List<BlockDevice> all) {
        List<Node> children = new ArrayList<>();
        if (!nodeps) {
            Set<DevT> holderNumbers = registry.holders(d.devt());
            for (BlockDevice other : all) if (holderNumbers.contains(other.devt())) children.add(node(other, d, all));
            children.sort((a, b) -> BY_DEVT.compare(a.device(), b.device()));
        }
        return new Node(d, parent, children);
    }

    /** @param seen null to keep every appearance of a device */
    private static List<Node> flatten(List<Node> nodes, List<Node> into, Set<DevT> seen) {
        for (Node n : nodes) {
            if (seen == null || seen.add(n.device().devt())) into.add(new Node(n.device(), n.parent(), List.of()));
            flatten(n.children(), into, seen);
        }
        return into;
    }

    /** @param art the branch drawn before this device; {@code indent} what its children inherit */
    private void addText(TextTable table, Node n, String art, String indent, List<Column> columns, boolean tree) {
        String[] cells = new String[columns.size()];
        for (int i = 0; i < cells.length; i++) {
            Column c = columns.get(i);
            String value = c.value(n.device(), n.parent(), bytes, raw || pairs, paths);
            cells[i] = c == Column.NAME && tree ? art + value : value;
        }
        table.add(cells);
        for (int i = 0; i < n.children().size(); i++) {
            boolean last = i == n.children().size() - 1;
            addText(table, n.children().get(i), indent + (last ? "└─" : "├─"), indent + (last ? "  " : "│ "), columns, tree);
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
            String value = c.value(n.device(), n.parent(), bytes, true, paths);
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
