package org.dmstack.shell;

import java.io.PrintStream;
import java.util.List;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/**
 * {@code sysfs}: reads and writes device attributes by their Linux paths, as {@code cat} and
 * {@code echo VALUE >} would.
 *
 * <pre>
 * sysfs /sys/block/pmem0/queue/write_cache          prints "write back"
 * sysfs /sys/block/pmem0/dax/write_cache 0          turns the DAX write cache off
 * sysfs /sys/block/ram0                             lists ram0's attributes
 * sysfs /sys/block                                  lists the devices
 * </pre>
 */
public final class Sysfs {
    public static final String USAGE = """
            Usage:
             sysfs /sys/block                      list the devices
             sysfs /sys/block/<dev>                list a device's attributes
             sysfs /sys/block/<dev>/<attribute>    print an attribute
             sysfs /sys/block/<dev>/<attribute> <value>   set a writable attribute
            """;
    private static final String ROOT = "/sys/block";

    private final BlockDeviceRegistry registry;

    public Sysfs(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    public void run(List<String> args, PrintStream out) {
        if (args.isEmpty()) throw CommandException.usage("sysfs: no path given", USAGE);
        if (args.size() >= 2) {
            // echo "write back" > PATH: the value may come as several words.
            write(args.getFirst(), String.join(" ", args.subList(1, args.size())));
            return;
        }
        String path = normalize(args.getFirst());
        if (path.equals(ROOT)) {
            for (BlockDevice d : registry.devices().stream().sorted((a, b) -> a.name().compareTo(b.name())).toList()) out.println(d.name());
            return;
        }
        Target t = resolve(path);
        if (t.attribute().isEmpty()) {
            for (String p : t.device().attributes().paths()) out.println(p);
            return;
        }
        String dirPrefix = t.attribute() + "/";
        if (!t.device().attributes().has(t.attribute())) {
            List<String> inDir = t.device().attributes().paths().stream().filter(p -> p.startsWith(dirPrefix)).toList();
            if (inDir.isEmpty()) throw new CommandException("sysfs: " + path + ": No such file or directory");
            for (String p : inDir) out.println(p.substring(dirPrefix.length()));
            return;
        }
        String value = t.device().attributes().read(t.attribute());
        // sysfs lists (badblocks) print one line per entry and nothing when empty.
        if (!value.isEmpty() || !t.attribute().equals("badblocks")) out.println(value);
    }

    private void write(String rawPath, String value) {
        String path = normalize(rawPath);
        Target t = resolve(path);
        if (t.attribute().isEmpty() || !t.device().attributes().has(t.attribute())) {
            throw new CommandException("sysfs: " + path + ": No such file or directory");
        }
        if (!t.device().attributes().isWritable(t.attribute())) throw new CommandException("sysfs: " + path + ": Permission denied");
        try {
            t.device().attributes().write(t.attribute(), value);
        } catch (IllegalArgumentException e) {
            throw new CommandException("sysfs: write error: Invalid argument (" + e.getMessage() + ")", e);
        }
    }

    private record Target(BlockDevice device, String attribute) {}

    private static String normalize(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) p = p.substring(0, p.length() - 1);
        return p;
    }

    private Target resolve(String path) {
        if (!path.startsWith(ROOT + "/")) {
            throw CommandException.usage("sysfs: " + path + ": only paths below " + ROOT + " are supported", USAGE);
        }
        String rest = path.substring(ROOT.length() + 1);
        int slash = rest.indexOf('/');
        String name = slash < 0 ? rest : rest.substring(0, slash);
        BlockDevice d = registry.lookup(name);
        if (d == null || !d.name().equals(name)) throw new CommandException("sysfs: " + path + ": No such file or directory");
        return new Target(d, slash < 0 ? "" : rest.substring(slash + 1));
    }
}
