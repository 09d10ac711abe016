package org.dmstack.shell;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Supplier;
import org.dmstack.block.BadBlocks;
import org.dmstack.nfit.NamespaceInfo;
import org.dmstack.nfit.NdctlJson;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.nvdimm.Namespaces;
import org.dmstack.nvdimm.Region;
import org.dmstack.units.Units;

/**
 * {@code ndctl}: list the NVDIMM platform (regions, NVDIMMs, namespaces, as ndctl's JSON) and
 * inject or clear media errors in a namespace, as {@code ndctl inject-error} does.
 *
 * <pre>
 * ndctl list -R
 * ndctl inject-error namespace0.0 --block=8 --count=2
 * ndctl inject-error namespace0.0 --status
 * ndctl inject-error namespace0.0 --block=8 --count=2 --uninject
 * </pre>
 */
public final class Ndctl {
    /**
     * ndctl's exit statuses: parse-options' usage_with_options exits 129; a command that fails
     * returns -errno, which the shell sees modulo 256 (-EINVAL 234, -ENXIO 250).
     */
    static final int USAGE_STATUS = 129, EINVAL = 234, ENXIO = 250;
    /** ndctl with no command, as ndctl 76.1 prints it (on standard output, status 1). */
    static final String MAIN_USAGE = "\n usage: ndctl [--version] [--help] COMMAND [ARGS]\n\n\n"
            + " See 'ndctl help COMMAND' for more information on a specific command.";
    /** ndctl --help, -h and help: the usage and where to find the commands (status 0). */
    static final String MAIN_HELP = MAIN_USAGE + "\n ndctl --list-cmds to see all available commands\n\n";
    /** The commands dmstack's ndctl has, in ndctl's command table order (--list-cmds). */
    static final List<String> COMMANDS = List.of("inject-error", "list", "help");

    private final Supplier<List<NfitPlatform>> platforms;
    private final Namespaces pmem;

    /** @param pmem the pmem driver's namespaces, or null when it is not running */
    public Ndctl(Supplier<List<NfitPlatform>> platforms, Namespaces pmem) {
        this.platforms = platforms;
        this.pmem = pmem;
    }

    public void run(List<String> args, PrintStream out) {
        if (args.equals(List.of("--help")) || args.equals(List.of("-h")) || args.equals(List.of("help"))) {
            out.print(MAIN_HELP);
            return;
        }
        if (args.equals(List.of("--list-cmds"))) {
            COMMANDS.forEach(out::println);
            return;
        }
        if (args.isEmpty()) throw new CommandException(MAIN_USAGE);
        List<String> rest = args.subList(1, args.size());
        switch (args.getFirst()) {
            case "list" -> list(rest, out);
            case "inject-error" -> injectError(rest, out);
            // help COMMAND shows the man page in ndctl; here the command's usage stands in for it.
            case "help" -> out.print(switch (rest.getFirst()) {
                case "list" -> LIST_USAGE;
                case "inject-error" -> INJECT_USAGE;
                default -> throw new CommandException("Unknown command: '" + rest.getFirst() + "'");
            });
            default -> throw new CommandException("Unknown command: '" + args.getFirst() + "'");
        }
    }

    /** {@code ndctl list -h}: parse-options' usage_with_options for the options dmstack takes. */
    static final String LIST_USAGE = usage("ndctl list [<options>]", new String[][] {
        {"b", "bus", "bus-id", "filter by bus"},
        {"r", "region", "region-id", "filter by region"},
        {"d", "dimm", "dimm-id", "filter by dimm"},
        {"n", "namespace", "namespace-id", "filter by namespace id"},
        {"m", "mode", "namespace-mode", "filter by namespace mode"},
        {"t", "type", "region-type", "filter by region-type"},
        {"B", "buses", null, "include bus info"},
        {"D", "dimms", null, "include dimm info"},
        {"F", "firmware", null, "include firmware info"},
        {"H", "health", null, "include dimm health"},
        {"R", "regions", null, "include region info"},
        {"N", "namespaces", null, "include namespace info (default)"},
        {"X", "device-dax", null, "include device-dax info"},
        {"i", "idle", null, "include idle devices"},
        {"c", "configured", null, "include configured namespaces, disabled or not"},
        {"M", "media-errors", null, "include media errors"},
        {"u", "human", null, "use human friendly number formats "},
        {"v", "verbose", null, "increase output detail"},
    });

    /** {@code ndctl inject-error -h}, the same way. */
    static final String INJECT_USAGE = usage("ndctl inject-error <namespace> [<options>]", new String[][] {
        {"B", "block", "namespace block offset (512B)", "specify the block at which to (un)inject the error"},
        {"n", "count", "count", "specify the number of blocks of errors to (un)inject"},
        {"d", "uninject", null, "un-inject a previously injected error"},
        {"t", "status", null, "get error injection status"},
        {"u", "human", null, "use human friendly number formats "},
    });

    /**
     * usage_with_options: each option as print_option_help lays it out (short, long, {@code <arg>};
     * help from column 26, or on the next line when the names are longer).
     */
    private static String usage(String line, String[][] options) {
        StringBuilder sb = new StringBuilder("\n usage: ").append(line).append("\n\n");
        for (String[] o : options) {
            String names = "    -" + o[0] + ", --" + o[1] + (o[2] == null ? "" : " <" + o[2] + ">");
            sb.append(names);
            int pad = 24 - names.length();
            if (pad < 0) {
                sb.append('\n');
                pad = 24;
            }
            sb.append(" ".repeat(pad + 2)).append(o[3]).append('\n');
        }
        return sb.append('\n').toString();
    }

    private void list(List<String> flags, PrintStream out) {
        // -h is parse-options' usage_with_options (standard error, 129); --help shows the man page in ndctl, the usage here.
        if (flags.contains("-h")) throw new CommandException(LIST_USAGE.stripTrailing(), USAGE_STATUS);
        if (flags.contains("--help")) {
            out.print(LIST_USAGE);
            return;
        }
        NdctlJson.Options options;
        try {
            options = NdctlJson.Options.parse(String.join(" ", flags));
        } catch (NdctlJson.UsageException e) {
            // util/usage.c's error(): " Error: " after a space; an unknown parameter's message ends in its own newline.
            String extra = e.getMessage().startsWith("unknown parameter") ? "\n" : "";
            throw new CommandException("  Error: " + e.getMessage() + "\n" + extra + LIST_USAGE.stripTrailing(), USAGE_STATUS);
        } catch (IllegalArgumentException e) {
            throw new CommandException("  Error: " + e.getMessage(), EINVAL);
        }
        out.print(NdctlJson.list(platforms.get(), namespaces(), options));
    }

    /** The raw namespace the pmem driver made on each region, with its block device. */
    private NamespaceInfo namespaces() {
        return region -> {
            Namespaces.Namespace d = pmem == null ? null : pmem.deviceOf(region.name());
            return d == null ? List.of() : List.of(NamespaceInfo.Namespace.raw(region, d.name()));
        };
    }

    /**
     * ndctl's inject-error.c: inject (or with --uninject clear) {@code count} blocks from
     * {@code block}, then print the namespace with its media errors; --status prints the injected
     * ranges, or nothing when there are none. Errors in ndctl's words.
     */
    private void injectError(List<String> args, PrintStream out) {
        if (args.contains("-h")) throw new CommandException(INJECT_USAGE.stripTrailing(), USAGE_STATUS);
        if (args.contains("--help")) {
            out.print(INJECT_USAGE);
            return;
        }
        String namespace = null;
        String block = null, count = null;
        boolean uninject = false, status = false, human = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("--block=")) block = a.substring(8);
            else if (a.equals("--block") || a.equals("-B")) block = value(args, ++i, a);
            else if (a.startsWith("--count=")) count = a.substring(8);
            else if (a.equals("--count") || a.equals("-n")) count = value(args, ++i, a);
            else if (a.equals("--uninject") || a.equals("-d")) uninject = true;
            else if (a.equals("--status") || a.equals("-t")) status = true;
            else if (a.equals("--human") || a.equals("-u")) human = true;
            else if (a.startsWith("--")) throw injectUsage("unknown option `" + a.substring(2).replaceFirst("=.*", "") + "'", false);
            else if (a.startsWith("-") && a.length() > 1) throw injectUsage("unknown switch `" + a.charAt(1) + "'", false);
            else if (namespace == null) namespace = a;
            else throw injectUsage("unknown extra parameter \"" + a + "\"", true);
        }
        // inject_init()'s checks, in its order and words.
        if (status && (uninject || block != null || count != null)) throw new CommandException("  Error: status is invalid with inject or uninject", EINVAL);
        long blockNo = block == null ? 0 : number("block", block);
        long countNo = count == null ? 0 : number("count", count);
        if (!status && (block == null || count == null)) throw new CommandException("  Error: block and count required for inject/uninject", EINVAL);
        if (namespace == null) throw injectUsage("specify a namespace to inject error to", true);
        Namespaces.Namespace device = device(namespace);
        String dev = device.region() != null ? "namespace" + device.region().id() + ".0" : device.name();
        if (status) {
            out.print(badBlocksJson(device.badBlocks(), human));
            return;
        }
        Region region = device.region();
        NfitPlatform platform = region == null ? null : platformOf(region);
        try {
            if (platform != null) {
                // Through the platform, as ACPI error injection: the pmem driver hears of it.
                region = uninject ? platform.clearError(region.name(), blockNo * 512, countNo * 512)
                        : platform.injectError(region.name(), blockNo * 512, countNo * 512);
            } else if (uninject) {
                device.clearError(blockNo, countNo);
            } else {
                device.injectError(blockNo, countNo);
            }
        } catch (IllegalArgumentException e) {
            throw new CommandException("Unable to " + (uninject ? "uninject" : "inject") + " error: " + dev + ": " + e.getMessage(), e);
        }
        if (uninject) {
            out.print("Warning: Un-injecting previously injected errors here will\n"
                    + "not cause the kernel to 'forget' its badblock entries. Those\n"
                    + "have to be cleared through the normal process of writing\n"
                    + "the affected blocks\n\n");
        }
        if (platform != null) out.print(NdctlJson.injectedNamespace(platform, region, NamespaceInfo.Namespace.raw(region, device.name()), human));
    }

    private Namespaces.Namespace device(String namespace) {
        if (pmem == null) throw new CommandException("ndctl inject-error: the pmem driver is not running");
        if (namespace.matches("namespace\\d+\\.0")) {
            String region = "region" + namespace.substring(9, namespace.indexOf('.'));
            Namespaces.Namespace d = pmem.deviceOf(region);
            if (d == null) throw new CommandException("  Error: " + namespace + ": no such namespace", ENXIO);
            return d;
        }
        for (Namespaces.Namespace d : pmem.devices()) if (d.name().equals(namespace) || ("/dev/" + d.name()).equals(namespace)) return d;
        throw new CommandException("  Error: " + namespace + ": no such namespace", ENXIO);
    }

    /**
     * parse-options' error and inject-error's usage (status 129); {@code ownLine}: the message ends
     * in a new line of its own (a blank line more), as ndctl's extra-parameter errors do.
     */
    private static CommandException injectUsage(String message, boolean ownLine) {
        return new CommandException("  Error: " + message + "\n" + (ownLine ? "\n" : "") + INJECT_USAGE.stripTrailing(), USAGE_STATUS);
    }

    private NfitPlatform platformOf(Region region) {
        for (NfitPlatform p : platforms.get()) {
            if (p.region(region.name()).isPresent()) return p;
        }
        return null;
    }

    /**
     * {@code ndctl inject-error --status}: injection_status() prints an object with the
     * "badblocks" records (util_badblock_rec_to_json: block and count, %#llx with -u), and nothing
     * when there are none.
     */
    static String badBlocksJson(List<BadBlocks.Range> ranges, boolean human) {
        if (ranges.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("{\n  \"badblocks\":[\n");
        for (int i = 0; i < ranges.size(); i++) {
            BadBlocks.Range r = ranges.get(i);
            sb.append("    {\n      \"block\":").append(hex(r.sector(), human)).append(",\n      \"count\":")
                    .append(hex(r.count(), human)).append("\n    }");
            sb.append(i < ranges.size() - 1 ? ",\n" : "\n");
        }
        return sb.append("  ]\n}\n").toString();
    }

    private static String hex(long value, boolean human) {
        if (!human) return Long.toString(value);
        return value == 0 ? "\"0\"" : "\"0x" + Long.toHexString(value) + "\"";
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw injectUsage(option.startsWith("--") ? "option `" + option.substring(2) + "' requires a value" : "switch `" + option.charAt(1) + "' requires a value", false);
        }
        return args.get(i);
    }

    /** parse_size64: a number, with an optional K/M/G/T suffix; "Invalid block: x" otherwise. */
    private static long number(String what, String text) {
        try {
            return Units.parseSize(text);
        } catch (IllegalArgumentException e) {
            throw new CommandException("  Error: Invalid " + what + ": " + text, EINVAL);
        }
    }
}
