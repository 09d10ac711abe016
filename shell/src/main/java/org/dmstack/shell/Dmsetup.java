package org.dmstack.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.dmstack.block.DevT;
import org.dmstack.dm.DeviceInfo;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;

/**
 * {@code dmsetup}: the device-mapper control commands, with dmsetup's output.
 *
 * <pre>
 * dmsetup create lv0 --table '0 2048 linear ram0 0'
 * dmsetup ls --tree
 * </pre>
 */
public final class Dmsetup {
    public static final String USAGE = """
            Usage:
            dmsetup
                    create <dev_name> [--uuid <uuid>] [--notable | --table <table> | <table_file>]
                    load <dev_name> [--table <table> | <table_file>]
                    clear <dev_name>
                    suspend <dev_name>
                    resume <dev_name>
                    remove <dev_name>
                    rename <dev_name> <new_name>
                    message <dev_name> <sector> <message>
                    ls [--tree]
                    info [<dev_name>]
                    deps [<dev_name>]
                    status [<dev_name>]
                    table [--inactive] [<dev_name>]
                    targets
            """;

    private final DeviceMapper dm;
    private final Path cwd;

    /** @param cwd the folder relative table file names are read from */
    public Dmsetup(DeviceMapper dm, Path cwd) {
        this.dm = dm;
        this.cwd = cwd;
    }

    /** Runs one dmsetup command line (without the word "dmsetup"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        if (args.isEmpty()) throw CommandException.usage("dmsetup: no command given", USAGE);
        String command = args.getFirst();
        List<String> rest = new ArrayList<>(args.subList(1, args.size()));
        try {
            switch (command) {
                case "create" -> create(rest);
                case "load", "reload" -> load(rest);
                case "clear" -> dm.clear(oneName(command, rest));
                case "suspend" -> dm.suspend(oneName(command, rest));
                case "resume" -> dm.resume(oneName(command, rest));
                case "remove" -> dm.remove(oneName(command, rest));
                case "rename" -> {
                    if (rest.size() != 2) throw CommandException.usage("dmsetup rename: expected <dev_name> <new_name>", USAGE);
                    dm.rename(rest.get(0), rest.get(1));
                }
                case "message" -> message(rest, out);
                case "ls" -> ls(rest, out);
                case "info" -> eachDevice(command, rest, out, name -> DmsetupOutput.info(dm.info(name)), false);
                case "deps" -> eachDevice(command, rest, out, name -> DmsetupOutput.deps(dm.deps(name)), true);
                case "status" -> eachDevice(command, rest, out, name -> dm.status(name), true);
                case "table" -> table(rest, out);
                case "targets" -> {
                    noArgs(command, rest);
                    out.print(DmsetupOutput.targets(dm.targets()));
                }
                default -> throw CommandException.usage("dmsetup: unknown command '" + command + "'", USAGE);
            }
        } catch (DmException e) {
            throw new CommandException("device-mapper: " + e.getMessage() + "\nCommand failed.", e);
        }
    }

    private void create(List<String> args) {
        String uuid = takeOption(args, "--uuid");
        boolean notable = args.remove("--notable");
        String table = tableArgument("create", args, !notable);
        if (args.size() != 1) throw CommandException.usage("dmsetup create: expected one <dev_name>, got " + args, USAGE);
        dm.create(args.getFirst(), uuid, table);
    }

    private void load(List<String> args) {
        String table = tableArgument("load", args, true);
        if (args.size() != 1) throw CommandException.usage("dmsetup load: expected one <dev_name>, got " + args, USAGE);
        dm.load(args.getFirst(), table);
    }

    /**
     * The table from {@code --table TEXT} or from a file named after the device name; removes what
     * it used from {@code args}.
     */
    private String tableArgument(String command, List<String> args, boolean required) {
        String text = takeOption(args, "--table");
        if (text != null) return text;
        if (args.size() == 2) {
            Path file = cwd.resolve(args.remove(1));
            try {
                return Files.readString(file);
            } catch (IOException e) {
                throw new CommandException("dmsetup " + command + ": cannot read table file " + file + ": " + e.getMessage(), e);
            }
        }
        if (required) throw CommandException.usage("dmsetup " + command + ": give the table with --table <table> or a <table_file>", USAGE);
        return null;
    }

    private static String takeOption(List<String> args, String option) {
        int i = args.indexOf(option);
        if (i < 0) return null;
        if (i == args.size() - 1) throw CommandException.usage("dmsetup: option " + option + " needs a value", USAGE);
        String value = args.get(i + 1);
        args.remove(i + 1);
        args.remove(i);
        return value;
    }

    private static String oneName(String command, List<String> args) {
        if (args.size() != 1) throw CommandException.usage("dmsetup " + command + ": expected one <dev_name>, got " + args, USAGE);
        return args.getFirst();
    }

    private static void noArgs(String command, List<String> args) {
        if (!args.isEmpty()) throw CommandException.usage("dmsetup " + command + ": unexpected arguments " + args, USAGE);
    }

    private void message(List<String> args, PrintStream out) {
        if (args.size() < 3) throw CommandException.usage("dmsetup message: expected <dev_name> <sector> <message>", USAGE);
        long sector;
        try {
            sector = Long.parseLong(args.get(1));
        } catch (NumberFormatException e) {
            throw CommandException.usage("dmsetup message: invalid sector '" + args.get(1) + "'", USAGE);
        }
        String answer = dm.message(args.get(0), sector, args.subList(2, args.size()));
        if (answer != null && !answer.isEmpty()) out.println(answer.stripTrailing());
    }

    private void ls(List<String> args, PrintStream out) {
        boolean tree = args.remove("--tree");
        noArgs("ls", args);
        List<DeviceInfo> devices = dm.list();
        if (!tree) {
            out.print(DmsetupOutput.ls(devices));
            return;
        }
        Map<DevT, List<DevT>> deps = new HashMap<>();
        for (DeviceInfo i : devices) deps.put(i.devt(), dm.deps(i.name()));
        out.print(DmsetupOutput.tree(devices, deps));
    }

    private void table(List<String> args, PrintStream out) {
        boolean inactive = args.remove("--inactive");
        eachDevice("table", args, out, name -> dm.table(name, inactive), true);
    }

    /**
     * One device's output, or with no name every device's, each line prefixed by "NAME: " when
     * {@code prefixed}, as dmsetup does.
     */
    private void eachDevice(String command, List<String> args, PrintStream out, Function<String, String> show, boolean prefixed) {
        if (args.size() > 1) throw CommandException.usage("dmsetup " + command + ": expected at most one <dev_name>, got " + args, USAGE);
        if (args.size() == 1) {
            out.print(show.apply(args.getFirst()));
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
}
