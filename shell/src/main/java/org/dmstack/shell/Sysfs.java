package org.dmstack.shell;

import java.io.PrintStream;
import java.util.List;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

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
@Command(name = "sysfs", description = {"Read and write device attributes by their Linux paths:",
    "  sysfs /sys/block                           the devices",
    "  sysfs /sys/block/<dev>                     a device's attributes",
    "  sysfs /sys/block/<dev>/<attribute>         print it (cat)",
    "  sysfs /sys/block/<dev>/<attribute> <value> set it (echo value >)"})
public final class Sysfs implements Runnable {
    private static final String ROOT = "/sys/block";

    @Mixin
    HelpOption help;
    @Parameters(index = "0", paramLabel = "<path>")
    String rawPath;
    // echo "write back" > PATH: the value may come as several words.
    @Parameters(index = "1..*", arity = "0..*", paramLabel = "<value>")
    List<String> value = List.of();

    private final BlockDeviceRegistry registry;
    private PrintStream out;

    public Sysfs(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    /** Runs one sysfs command line (without the word "sysfs"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        this.out = out;
        CommandLine cl = new CommandLine(this);
        cl.setUnmatchedOptionsArePositionalParams(true);
        Cli.run(cl, args, out);
    }

    @Override
    public void run() {
        if (!value.isEmpty()) {
            write(rawPath, String.join(" ", value));
            return;
        }
        String path = normalize(rawPath);
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
            throw new CommandException("sysfs: " + path + ": only paths below " + ROOT + " are supported");
        }
        String rest = path.substring(ROOT.length() + 1);
        int slash = rest.indexOf('/');
        String name = slash < 0 ? rest : rest.substring(0, slash);
        BlockDevice d = registry.lookup(name);
        if (d == null || !d.name().equals(name)) throw new CommandException("sysfs: " + path + ": No such file or directory");
        return new Target(d, slash < 0 ? "" : rest.substring(slash + 1));
    }
}
