package org.dmstack.shell;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.dmstack.block.Attributes;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nfit.NdBusSysfs;
import org.dmstack.nfit.NfitPlatform;
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
 * sysfs /sys/bus/nd/devices/region0/read_only       prints "1" when an NVDIMM of region0 is not armed
 * sysfs /sys/bus/nd/devices/region0/read_only 0     makes region0, and pmem0 over it, writable
 * sysfs /sys/bus/nd/devices/nmem0/nfit/flags        prints "not_armed " (the NFIT state flags)
 * </pre>
 */
@Command(name = "sysfs", description = {"Read and write device attributes by their Linux paths:",
    "  sysfs /sys/block                           the devices",
    "  sysfs /sys/block/<dev>                     a device's attributes",
    "  sysfs /sys/block/<dev>/<attribute>         print it (cat)",
    "  sysfs /sys/block/<dev>/<attribute> <value> set it (echo value >)",
    "  sysfs /sys/bus/nd/devices[/<dev>[/<attribute> [<value>]]]  the NVDIMM bus: regionN, nmemN"})
public final class Sysfs implements Runnable {
    private static final String ROOT = "/sys/block";
    private static final String ND = "/sys/bus/nd/devices";

    @Mixin
    HelpOption help;
    @Parameters(index = "0", paramLabel = "<path>")
    String rawPath;
    // echo "write back" > PATH: the value may come as several words.
    @Parameters(index = "1..*", arity = "0..*", paramLabel = "<value>")
    List<String> value = List.of();

    private final BlockDeviceRegistry registry;
    private final Supplier<List<NfitPlatform>> platforms;
    private PrintStream out;

    /** Block devices only: no NVDIMM bus. */
    public Sysfs(BlockDeviceRegistry registry) {
        this(registry, List::of);
    }

    /** Block devices, and the regions and NVDIMMs of the platforms below /sys/bus/nd/devices. */
    public Sysfs(BlockDeviceRegistry registry, Supplier<List<NfitPlatform>> platforms) {
        this.registry = registry;
        this.platforms = platforms;
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
        if (path.equals(ND)) {
            for (String name : NdBusSysfs.devices(platforms.get()).keySet()) out.println(name);
            return;
        }
        Target t = resolve(path);
        if (t.attribute().isEmpty()) {
            for (String p : t.attributes().paths()) out.println(p);
            return;
        }
        String dirPrefix = t.attribute() + "/";
        if (!t.attributes().has(t.attribute())) {
            List<String> inDir = t.attributes().paths().stream().filter(p -> p.startsWith(dirPrefix)).toList();
            if (inDir.isEmpty()) throw new CommandException("sysfs: " + path + ": No such file or directory");
            for (String p : inDir) out.println(p.substring(dirPrefix.length()));
            return;
        }
        String value = t.attributes().read(t.attribute());
        // sysfs lists (badblocks) print one line per entry and nothing when empty.
        if (!value.isEmpty() || !t.attribute().equals("badblocks")) out.println(value);
    }

    private void write(String rawPath, String value) {
        String path = normalize(rawPath);
        Target t = resolve(path);
        if (t.attribute().isEmpty() || !t.attributes().has(t.attribute())) {
            throw new CommandException("sysfs: " + path + ": No such file or directory");
        }
        if (!t.attributes().isWritable(t.attribute())) throw new CommandException("sysfs: " + path + ": Permission denied");
        try {
            t.attributes().write(t.attribute(), value);
        } catch (IllegalArgumentException e) {
            throw new CommandException("sysfs: write error: Invalid argument (" + e.getMessage() + ")", e);
        }
    }

    private record Target(Attributes attributes, String attribute) {}

    private static String normalize(String path) {
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) p = p.substring(0, p.length() - 1);
        return p;
    }

    private Target resolve(String path) {
        boolean nd = path.startsWith(ND + "/");
        if (!nd && !path.startsWith(ROOT + "/")) {
            throw new CommandException("sysfs: " + path + ": only paths below " + ROOT + " and " + ND + " are supported");
        }
        String rest = path.substring((nd ? ND : ROOT).length() + 1);
        int slash = rest.indexOf('/');
        String name = slash < 0 ? rest : rest.substring(0, slash);
        Attributes attributes;
        if (nd) {
            Map<String, Attributes> devices = NdBusSysfs.devices(platforms.get());
            attributes = devices.get(name);
        } else {
            BlockDevice d = registry.lookup(name);
            attributes = d == null || !d.name().equals(name) ? null : d.attributes();
        }
        if (attributes == null) throw new CommandException("sysfs: " + path + ": No such file or directory");
        return new Target(attributes, slash < 0 ? "" : rest.substring(slash + 1));
    }
}
