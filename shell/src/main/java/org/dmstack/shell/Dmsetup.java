package org.dmstack.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.dm.DeviceInfo;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParseResult;

/**
 * {@code dmsetup}: the device-mapper control commands, with dmsetup's output. Device-mapper
 * returns data; {@link DmsetupOutput} and {@link DmsetupReport} print it as dmsetup does.
 *
 * <pre>
 * dmsetup create lv0 --table '0 2048 linear ram0 0'
 * dmsetup ls --tree
 * dmsetup info -c -o name,attr,devnos_used
 * </pre>
 */
public final class Dmsetup {
    /**
     * dmsetup's usage, in dmsetup 1.02.185's layout, with what dmstack offers; printed by
     * {@code help} and {@code --help}, and after "Unknown command." and "Incorrect number of arguments.".
     */
    public static final String USAGE = """
            Usage:

            dmsetup
                    [-h|--help] [-r|--readonly] [--noflush] [--nolockfs] [--inactive]
                    [-c|-C|--columns] [-o <fields>] [--noheadings] [--separator <separator>]

            \thelp
            \tcreate <dev_name>
            \t    [-u|--uuid <uuid>]
            \t    [-n|--notable|--table {<table>|<table_file>}]
            \tremove [--deferred] [-f|--force] <device>
            \tremove_all [--deferred]
            \tsuspend [--noflush] [--nolockfs] <device>
            \tresume <device>
            \tload <device> [<table>|<table_file>]
            \tclear <device>
            \treload <device> [<table>|<table_file>]
            \trename <device> [--setuuid] <new_name_or_uuid>
            \tmessage <device> <sector> <message>
            \tls [-o <options>] [--tree]
            \tinfo [<device>]
            \tdeps [-o <options>] [<device>]
            \tstatus [<device>] [--inactive] [--target <target_type>]
            \ttable [<device>] [--inactive] [--target <target_type>]
            \twait <device> [<event_nr>]
            \tmknodes [<device>...]
            \ttargets\s
            \tversion\s

            <device> is a device name.
            <fields> are comma-separated.
            Options are: devno, devname, blkdevname.
            Not in dmstack: create --concise, wipe_table, measure, stats, mangle, target-version,
            setgeometry, splitname, the udev commands; several devices on one line; the options -v,
            -y, -j/-m, -U/-G/-M, --readahead, --retry, --manglename, --checks, --noopencount, -O, -S,
            --nameprefixes, --rows, --concise, --showkeys, --exec, ls --target; tables on stdin.
            """;
    /** dmsetup 1.02.185's options that dmstack does not take (or not on that command). */
    private static final Cli.Getopt GETOPT = new Cli.Getopt("dmsetup", Set.of(
            "-f", "--force", "-v", "--verbose", "-r", "--readonly", "-y", "--yes", "-j", "--major", "-m", "--minor",
            "-U", "--uid", "-G", "--gid", "-M", "--mode", "--readahead", "--retry", "--deferred", "--manglename", "--checks",
            "--noopencount", "-O", "--sort", "-S", "--select", "--nameprefixes", "--rows", "--setuuid", "--concise",
            "--showkeys", "--exec", "--noflush", "--nolockfs", "--inactive", "--udevcookie", "--noudevrules", "--noudevsync",
            "--verifyudev", "--addnodeonresume", "--addnodeoncreate", "--version", "--unbuffered", "--count", "--interval",
            "--unquoted", "--noheadings", "--separator", "-o", "--options", "-c", "-C", "--columns", "--table", "-n", "--notable",
            "-u", "--uuid", "--tree", "--target"));
    /** The ioctl interface version of Linux 6.1's device-mapper (DM_VERSION_MAJOR.MINOR.PATCHLEVEL). */
    static final String DRIVER_VERSION = "4.47.0";
    /** The dmsetup whose output dmstack's follows. */
    static final String LIBRARY_VERSION = "1.02.185 (2022-05-18)";

    private final DeviceMapper dm;
    private final Path cwd;
    private PrintStream out;

    /** @param cwd the folder relative table file names are read from */
    public Dmsetup(DeviceMapper dm, Path cwd) {
        this.dm = dm;
        this.cwd = cwd;
    }

    /** Runs one dmsetup command line (without the word "dmsetup"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        this.out = out;
        // -h and --help are dmsetup's global options: its usage, whatever else the line says.
        int message = args.indexOf("message");
        for (String a : message < 0 ? args : args.subList(0, Math.min(args.size(), message + 3))) {
            if (a.equals("-h") || a.equals("--help")) {
                out.print(USAGE);
                return;
            }
        }
        CommandLine cl = commandLine();
        try {
            Cli.run(cl, args, out, this::usageError);
        } catch (DmException e) {
            String refusal = e.missingDevice() != null ? noSuchDevice(cl.getParseResult(), e.missingDevice()) : ioctlFailed(e.getMessage());
            throw new CommandException(refusal + "\nCommand failed.", e);
        }
    }

    /**
     * A refused ioctl as libdm logs it: "device-mapper: remove ioctl on NAME  failed: Device or
     * resource busy", the name and the device's uuid (empty, as dmsetup names the device) with a
     * space after each; core's reason, what 6.1 writes to the kernel log, follows in parentheses.
     */
    private static String ioctlFailed(String refusal) {
        return "device-mapper: " + IOCTL_FAILED.matcher(refusal).replaceFirst("$1  failed: ");
    }

    private static final Pattern IOCTL_FAILED = Pattern.compile("^([a-z_]+ ioctl on .*?) failed: ");

    /**
     * What dmsetup 1.02.185 prints when the device named does not exist: libdm takes the kernel's
     * ENXIO as "not there" for info and status (then dmsetup says so), and logs the failed ioctl
     * for every other command, the name and an empty uuid between two spaces; a path it cannot
     * find is refused before any ioctl (dm_task_set_name).
     */
    private static String noSuchDevice(ParseResult parsed, String name) {
        if (name.contains("/")) return "Device " + name + " not found";
        while (parsed.hasSubcommand()) parsed = parsed.subcommand();
        String command = parsed.commandSpec().name();
        if (command.equals("info") || command.equals("status")) return "Device does not exist.";
        String ioctl = switch (command) {
            case "load" -> "reload";
            case "wait" -> "waitevent";
            default -> command;
        };
        // remove --force: _error_device's table and reload fail first, and dmsetup goes on.
        List<String> ioctls = command.equals("remove") && parsed.hasMatchedOption("-f") ? List.of("table", "reload", ioctl) : List.of(ioctl);
        return String.join("\n", ioctls.stream().map(i -> ioctlFailed(i + " ioctl on " + name + " failed: No such device or address")).toList());
    }

    /**
     * What dmsetup 1.02.185 says of a command line it cannot take: getopt's line and "Couldn't
     * process command line." for a wrong option, "Unknown command." or "Incorrect number of
     * arguments." and the usage, "Please specify device." for a command without its device.
     */
    private CommandException usageError(picocli.CommandLine.ParameterException e, List<String> args) {
        String option = GETOPT.optionError(e, args);
        if (option != null) return new CommandException(option + "\nCouldn't process command line.");
        Object command = e.getCommandLine().getCommandSpec().userObject();
        boolean missing = e instanceof picocli.CommandLine.MissingParameterException;
        if (command instanceof Root) return new CommandException("Unknown command.\n" + USAGE.stripTrailing());
        if (missing && command instanceof Create) return new CommandException("Please provide a name for the new device.\nCommand failed.");
        if (missing && (command instanceof NameOnly || command instanceof Load || command instanceof Suspend || command instanceof Remove)) {
            return new CommandException("Please specify device.\nCommand failed.");
        }
        if (missing || e instanceof picocli.CommandLine.UnmatchedArgumentException) {
            return new CommandException("Incorrect number of arguments.\n" + USAGE.stripTrailing());
        }
        return new CommandException("dmsetup: " + e.getMessage() + "\nCouldn't process command line.");
    }

    private CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Root());
        cl.addSubcommand(new Create());
        cl.addSubcommand(new Load());
        add(cl, "clear", "Destroy the inactive table.", new NameOnly(dm::clear));
        cl.addSubcommand(new Suspend());
        add(cl, "resume", "Swap in the inactive table, if any, and let I/O go on.", new NameOnly(dm::resume));
        cl.addSubcommand(new Remove());
        cl.addSubcommand(new RemoveAll());
        cl.addSubcommand(new Rename());
        cl.addSubcommand(new Message());
        cl.addSubcommand(new Ls());
        cl.addSubcommand(new Info());
        cl.addSubcommand(new Deps());
        add(cl, "status", "Show the status of the live table's targets (or with --inactive the inactive table's).", new Tables(dm::status));
        add(cl, "table", "Show the live table (or with --inactive the inactive one).", new Tables(dm::table));
        cl.addSubcommand(new Wait());
        cl.addSubcommand(new Targets());
        cl.addSubcommand(new Version());
        cl.addSubcommand(new Mknodes());
        cl.addSubcommand(new Usage());
        // A message's words are the target's, whatever they look like ("@stats_create - /1").
        cl.getSubcommands().get("message").setStopAtPositional(true).setUnmatchedOptionsArePositionalParams(true);
        return cl;
    }

    private static void add(CommandLine cl, String name, String description, Object command) {
        CommandLine sub = new CommandLine(command);
        sub.getCommandSpec().usageMessage().description(description);
        cl.addSubcommand(name, sub);
    }

    @Command(name = "dmsetup", description = "Control device-mapper: create, load, suspend, resume, remove and show mapped devices.",
            synopsisSubcommandLabel = "COMMAND")
    private static final class Root implements Runnable {
        @Override
        public void run() {
            throw new CommandException(USAGE.stripTrailing());
        }
    }

    /** A subcommand (-h and --help are dmsetup's own, seen before picocli parses). */
    private abstract static class Sub implements Runnable {}

    @Command(name = "create", description = "Create a device; with a table, load it and resume.")
    private final class Create extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        @Parameters(index = "1", arity = "0..1", paramLabel = "<table_file>") Path file;
        @Option(names = {"-u", "--uuid"}, paramLabel = "<uuid>") String uuid;
        @Option(names = {"-n", "--notable"}, description = "Create it without a table.") boolean notable;
        @Option(names = "--table", paramLabel = "<table>", description = "The table, lines separated by new lines.") String table;
        @Option(names = {"-r", "--readonly"}, description = "Load the table read-only: the device refuses writes.") boolean readOnly;

        @Override
        public void run() {
            // dm_task_set_name refuses these for a new device before any ioctl.
            if (name.contains("/")) throw new CommandException("Name \"" + name + "\" invalid. It contains \"/\".\nCommand failed.");
            if (name.length() >= 128) throw new CommandException("Name \"" + name + "\" too long\nCommand failed.");
            String text = table(table, file, "create", !notable);
            try {
                dm.create(name, uuid, text, readOnly);
            } catch (DmException e) {
                throw tableRefused(name, file, e);
            }
        }
    }

    @Command(name = "load", aliases = "reload", description = "Load a table into the inactive slot (resume swaps it in).")
    private final class Load extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        @Parameters(index = "1", arity = "0..1", paramLabel = "<table_file>") Path file;
        @Option(names = "--table", paramLabel = "<table>") String table;
        @Option(names = {"-r", "--readonly"}, description = "Load the table read-only: the device refuses writes once it is resumed.") boolean readOnly;

        @Override
        public void run() {
            String text = table(table, file, "load", true);
            try {
                dm.load(name, text, readOnly);
            } catch (DmException e) {
                throw tableRefused(name, file, e);
            }
        }
    }

    /**
     * A table refused as dmsetup shows it: a line it cannot read as "Invalid format on line N of
     * table FILE." (FILE empty for --table), before any ioctl; a table the kernel refused as the
     * failed reload ioctl (create loads its table with a reload too, and removes the new device
     * again), with what 6.1 logs in parentheses.
     */
    private static RuntimeException tableRefused(String name, Path file, DmException e) {
        if (e.malformedLine() > 0) {
            return new CommandException("Invalid format on line " + e.malformedLine() + " of table " + (file == null ? "" : file) + ".\nCommand failed.", e);
        }
        if (e.errno() != null) {
            return new CommandException(ioctlFailed("reload ioctl on " + name + " failed: " + e.errno() + " (" + e.getMessage() + ")") + "\nCommand failed.", e);
        }
        return e;
    }

    /** The table from --table or from a file; null when neither is given and none is required. */
    private String table(String table, Path file, String command, boolean required) {
        if (table != null) return table;
        if (file != null) {
            Path path = cwd.resolve(file);
            try {
                return Files.readString(path);
            } catch (CharacterCodingException e) {
                throw new CommandException("dmsetup " + command + ": " + path + " is not a table file: it is not text", e);
            } catch (IOException e) {
                throw new CommandException("dmsetup " + command + ": cannot read table file " + path + ": " + e.getMessage(), e);
            }
        }
        if (required) throw new CommandException("dmsetup " + command + ": give the table with --table <table> or a <table_file>");
        return null;
    }

    private interface NameAction {
        void apply(String name);
    }

    @Command
    private final class NameOnly extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        private final NameAction action;

        NameOnly(NameAction action) {
            this.action = action;
        }

        @Override
        public void run() {
            action.apply(name);
        }
    }

    @Command(name = "suspend", description = "Suspend the device: I/O waits until resume.")
    private final class Suspend extends Sub {
        @Parameters(index = "0", paramLabel = "<device>") String name;
        // dm core has no queue of deferred I/O to flush or keep, and there is no filesystem to freeze.
        @Option(names = "--noflush", description = "Accepted: there is no queue of deferred I/O to flush.") boolean noflush;
        @Option(names = "--nolockfs", description = "Accepted: there is no filesystem to freeze.") boolean nolockfs;

        @Override
        public void run() {
            dm.suspend(name);
        }
    }

    @Command(name = "remove", description = "Remove the device.")
    private final class Remove extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        @Option(names = {"-f", "--force"}, description = "First replace its table with one that fails all I/O.") boolean force;
        @Option(names = "--deferred", description = "If it is in use, remove it when the last user lets it go.") boolean deferred;

        @Override
        public void run() {
            if (force) errorDevice(name);
            dm.remove(name, deferred);
        }
    }

    @Command(name = "remove_all", description = "Remove every device nothing uses.")
    private final class RemoveAll extends Sub {
        @Option(names = "--deferred", description = "Mark those in use to be removed when their last user lets go.") boolean deferred;

        @Override
        public void run() {
            dm.removeAll(deferred);
        }
    }

    /**
     * dmsetup's _error_device, for --force: an "error" table as long as the live one, loaded and
     * resumed (or cleared again if the resume fails). A device without a live table is left as
     * it is (dmsetup's reload of a zero-length target fails there too, and it goes on).
     */
    private void errorDevice(String name) {
        long size = dm.get(name).disk().capacity();
        if (size == 0) return;
        dm.load(name, "0 " + size + " error");
        try {
            dm.resume(name);
        } catch (DmException e) {
            dm.clear(name);
        }
    }

    @Command(name = "rename", description = "Give the device a new name (or with --setuuid a uuid, if it has none).")
    private final class Rename extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        @Parameters(index = "1", paramLabel = "<new_name>") String newName;
        @Option(names = "--setuuid", description = "The last argument is the device's uuid: set it, once.") boolean setUuid;

        @Override
        public void run() {
            if (setUuid) dm.setUuid(name, newName);
            else dm.rename(name, newName);
        }
    }

    @Command(name = "wait", description = "Wait until the device's event number is no longer <event_nr> (0 if not given).")
    private final class Wait extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        @Parameters(index = "1", arity = "0..1", paramLabel = "<event_nr>") Integer eventNr;

        @Override
        public void run() {
            try {
                dm.waitEvent(name, eventNr == null ? 0 : eventNr);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandException("dmsetup wait: interrupted", e);
            }
        }
    }

    @Command(name = "message", description = "Send a message to the target at <sector>; prints its answer.")
    private final class Message extends Sub {
        @Parameters(index = "0", paramLabel = "<dev_name>") String name;
        @Parameters(index = "1", paramLabel = "<sector>") long sector;
        @Parameters(index = "2..*", arity = "1..*", paramLabel = "<message>") List<String> words;
        @Override
        public void run() {
            String answer = dm.message(name, sector, words);
            if (answer != null && !answer.isEmpty()) out.println(answer.stripTrailing());
        }
    }

    @Command(name = "deps", description = "Show the devices the live table uses.")
    private final class Deps extends Sub {
        @Parameters(arity = "0..1", paramLabel = "<dev_name>") String name;
        @Option(names = {"-o", "--options"}, paramLabel = "devno|devname|blkdevname",
                description = "Show each device as major, minor (devno), by its mapped name or else kernel name (devname), or by its kernel name (blkdevname).")
        String options;

        @Override
        public void run() {
            Function<DevT, String> show = deviceNames("deps", options);
            eachDevice(name, n -> DmsetupOutput.deps(dm.deps(n), show), true);
        }
    }

    /**
     * How ls and deps name a device for -o (dmsetup's _dev_name_type and dm_device_get_name):
     * null for major and minor numbers.
     */
    private Function<DevT, String> deviceNames(String command, String options) {
        if (options == null || options.equals("devno")) return null;
        if (options.equals("blkdevname")) return this::kernelName;
        if (options.equals("devname")) {
            return devt -> {
                String mapped = devt.major() == DevT.DM_MAJOR ? mappedName(devt) : "";
                return mapped.isEmpty() ? kernelName(devt) : mapped;
            };
        }
        // dmsetup 1.02.185's words (and status 1) for an -o it does not know.
        throw new CommandException("Option not recognised: " + options + ".\nCouldn't process command line.");
    }

    private String kernelName(DevT devt) {
        BlockDevice d = dm.registry().lookup(devt.toString());
        return d == null ? "" : d.name();
    }

    private String mappedName(DevT devt) {
        return dm.list().stream().filter(i -> i.devt().equals(devt)).map(DeviceInfo::name).findFirst().orElse("");
    }

    @Command(name = "ls", description = "List the devices; --tree shows what each is built on.")
    private final class Ls extends Sub {
        @Option(names = "--tree") boolean tree;
        @Option(names = {"-o", "--options"}, paramLabel = "devno|devname|blkdevname",
                description = "Without --tree: show each device's numbers (devno), its name again (devname) or its kernel name (blkdevname).")
        String options;

        @Override
        public void run() {
            List<DeviceInfo> devices = dm.list();
            if (!tree) {
                out.print(DmsetupOutput.ls(devices, deviceNames("ls", options)));
                return;
            }
            if (options != null) throw new CommandException("dmsetup ls: -o with --tree is not supported");
            Map<DevT, List<DevT>> deps = new HashMap<>();
            for (DeviceInfo i : devices) deps.put(i.devt(), dm.deps(i.name()));
            out.print(DmsetupOutput.tree(devices, deps));
        }
    }

    @Command(name = "info", description = "Show the device's state (every device's without a name); -c as columns.")
    private final class Info extends Sub {
        @Parameters(arity = "0..1", paramLabel = "<dev_name>") String name;
        @Option(names = {"-c", "-C", "--columns"}, description = "One line per device, in columns.") boolean columns;
        @Option(names = {"-o", "--options"}, paramLabel = "<fields>",
                description = "With -c: the fields, comma-separated, or +fields to add to the default "
                        + DmsetupReport.DEFAULT_FIELDS + ".") String options;
        @Option(names = "--noheadings", description = "With -c: no headings; fields joined by ':'.") boolean noHeadings;
        @Option(names = "--separator", paramLabel = "<separator>", description = "With -c: join the fields with this.") String separator;
        @Override
        public void run() {
            if (!columns) {
                if (options != null || noHeadings || separator != null) {
                    throw new CommandException("dmsetup info: -o, --noheadings and --separator need -c");
                }
                eachDevice(name, n -> {
                    DeviceInfo info = dm.info(n);
                    return DmsetupOutput.info(info, readAhead(info.devt()));
                }, false);
                return;
            }
            DmsetupReport report = new DmsetupReport(options, noHeadings, separator);
            List<DeviceInfo> devices = name != null ? List.of(dm.info(name)) : dm.list();
            if (devices.isEmpty()) {
                out.print(DmsetupOutput.NO_DEVICES);
                return;
            }
            out.print(report.print(devices, reportContext()));
        }
    }

    private interface TableQuery {
        String apply(String name, boolean inactive);
    }

    /** table and status: the live table's lines, or with --inactive the inactive table's. */
    @Command
    private final class Tables extends Sub {
        @Parameters(arity = "0..1", paramLabel = "<dev_name>") String name;
        @Option(names = "--inactive") boolean inactive;
        @Option(names = "--target", paramLabel = "<target_type>", description = "Only the lines of targets of this type.") String target;
        private final TableQuery query;

        Tables(TableQuery query) {
            this.query = query;
        }

        @Override
        public void run() {
            if (target == null) {
                eachDevice(name, n -> query.apply(n, inactive), true);
                return;
            }
            // dmsetup's _status skips other targets, and a device without a table has none of the type: nothing at all.
            StringBuilder lines = new StringBuilder();
            for (DeviceInfo d : name != null ? List.of(dm.info(name)) : dm.list()) {
                for (String line : query.apply(d.name(), inactive).lines().toList()) {
                    String[] words = line.split(" ", 4);
                    if (words.length > 2 && words[2].equals(target)) lines.append(name != null ? "" : d.name() + ": ").append(line).append('\n');
                }
            }
            out.print(name == null && dm.list().isEmpty() ? DmsetupOutput.NO_DEVICES : lines.toString());
        }
    }

    @Command(name = "targets", description = "List the target types and their versions.")
    private final class Targets extends Sub {
        @Override
        public void run() {
            out.print(DmsetupOutput.targets(dm.targets()));
        }
    }

    @Command(name = "version", description = "dmsetup's library line and the device-mapper interface version.")
    private final class Version extends Sub {
        @Override
        public void run() {
            out.print("Library version:   " + LIBRARY_VERSION + "\nDriver version:    " + DRIVER_VERSION + "\n");
        }
    }

    /** libdm takes ENXIO as "not there" for mknodes too: it removes a stale node, and succeeds. */
    @Command(name = "mknodes", description = "Nothing to make: dmstack's devices have no /dev nodes.")
    private final class Mknodes extends Sub {
        @Parameters(arity = "0..*", paramLabel = "<device>") List<String> names = List.of();
        @Override
        public void run() {}
    }

    @Command(name = "help", description = "Show this list of commands (as --help does).")
    private final class Usage extends Sub {
        @Override
        public void run() {
            out.print(USAGE);
        }
    }

    /**
     * One device's output, or with no name every device's, each line prefixed by "NAME: " when
     * {@code prefixed}, as dmsetup does.
     */
    private void eachDevice(String name, Function<String, String> show, boolean prefixed) {
        if (name != null) {
            String text = show.apply(name);
            // dmsetup's _status prints one line even for a device without a table: an empty one.
            out.print(text.isEmpty() && prefixed ? "\n" : text);
            return;
        }
        List<DeviceInfo> devices = dm.list();
        if (devices.isEmpty()) {
            out.print(DmsetupOutput.NO_DEVICES);
            return;
        }
        for (DeviceInfo device : devices) {
            String text = show.apply(device.name());
            if (!prefixed) {
                out.print(text);
                continue;
            }
            if (text.isEmpty()) out.println(device.name() + ": ");
            for (String line : text.lines().toList()) out.println(device.name() + ": " + line);
        }
    }

    /** BLKRAGET: read_ahead_kb in sectors, as dmsetup finds it (dm_task_get_read_ahead). */
    private long readAhead(DevT devt) {
        BlockDevice d = dm.registry().lookup(devt.toString());
        return d == null || !d.attributes().has("queue/read_ahead_kb") ? 0 : Long.parseLong(d.attributes().read("queue/read_ahead_kb")) * 2;
    }

    /** The dependency graph of every mapped device, for the report's relationship fields. */
    private DmsetupReport.Context reportContext() {
        List<DeviceInfo> all = dm.list();
        Map<DevT, List<DevT>> deps = new HashMap<>();
        for (DeviceInfo i : all) deps.put(i.devt(), dm.deps(i.name()));
        return new DmsetupReport.Context() {
            @Override
            public List<DevT> deps(DeviceInfo device) {
                return deps.getOrDefault(device.devt(), List.of());
            }

            @Override
            public String kernelName(DevT devt) {
                return Dmsetup.this.kernelName(devt);
            }

            @Override
            public long readAhead(DevT devt) {
                return Dmsetup.this.readAhead(devt);
            }

            @Override
            public String mappedName(DevT devt) {
                return all.stream().filter(i -> i.devt().equals(devt)).map(DeviceInfo::name).findFirst().orElse("");
            }

            @Override
            public List<DeviceInfo> users(DeviceInfo device) {
                List<DeviceInfo> users = new ArrayList<>();
                for (DeviceInfo i : all) if (deps.get(i.devt()).contains(device.devt())) users.add(i);
                return users;
            }
        };
    }
}
