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
    public static final String USAGE = """
            Usage:
             ndctl list [-B] [-D] [-R] [-N] [-M] [-u] [-v]
             ndctl inject-error <namespace> [--block=N | -B N] [--count=N | -n N] [--uninject | --status]
            A namespace is namespaceN.0 (the raw namespace on regionN) or its block device, pmemN.
            """;

    private final Supplier<List<NfitPlatform>> platforms;
    private final Namespaces pmem;

    /** @param pmem the pmem driver's namespaces, or null when it is not running */
    public Ndctl(Supplier<List<NfitPlatform>> platforms, Namespaces pmem) {
        this.platforms = platforms;
        this.pmem = pmem;
    }

    public void run(List<String> args, PrintStream out) {
        if (args.equals(List.of("--help")) || args.equals(List.of("-h"))) {
            out.print(USAGE);
            return;
        }
        if (args.isEmpty()) throw CommandException.usage("ndctl: no command given", USAGE);
        List<String> rest = args.subList(1, args.size());
        switch (args.getFirst()) {
            case "list" -> list(rest, out);
            case "inject-error" -> injectError(rest, out);
            default -> throw CommandException.usage("ndctl: unknown command '" + args.getFirst() + "'", USAGE);
        }
    }

    /** {@code ndctl list -h}: parse-options' usage_with_options for the options dmstack takes. */
    static final String LIST_USAGE = listUsage(new String[][] {
        {"B", "buses", "include bus info"},
        {"D", "dimms", "include dimm info"},
        {"R", "regions", "include region info"},
        {"N", "namespaces", "include namespace info (default)"},
        {"M", "media-errors", "include media errors"},
        {"u", "human", "use human friendly number formats "},
        {"v", "verbose", "increase output detail"},
    });

    /** Each option as print_option_help lays it out: help text from column 26. */
    private static String listUsage(String[][] options) {
        StringBuilder sb = new StringBuilder("\n usage: ndctl list [<options>]\n\n");
        for (String[] o : options) {
            String names = "    -" + o[0] + ", --" + o[1];
            sb.append(names).append(" ".repeat(24 - names.length() + 2)).append(o[2]).append('\n');
        }
        return sb.append('\n').toString();
    }

    private void list(List<String> flags, PrintStream out) {
        if (flags.contains("-h") || flags.contains("--help")) {
            out.print(LIST_USAGE);
            return;
        }
        NdctlJson.Options options;
        try {
            options = NdctlJson.Options.parse(String.join(" ", flags));
        } catch (IllegalArgumentException e) {
            // util/usage.c's error(): " Error: " after a space; an unknown parameter's message ends in its own newline.
            String extra = e.getMessage().startsWith("unknown parameter") ? "\n" : "";
            throw new CommandException("  Error: " + e.getMessage() + "\n" + extra + LIST_USAGE.stripTrailing());
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

    private void injectError(List<String> args, PrintStream out) {
        String namespace = null;
        long block = -1, count = 1;
        boolean uninject = false, status = false;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("--block=")) block = number(a.substring(8));
            else if (a.equals("--block") || a.equals("-B")) block = number(value(args, ++i, a));
            else if (a.startsWith("--count=")) count = number(a.substring(8));
            else if (a.equals("--count") || a.equals("-n")) count = number(value(args, ++i, a));
            else if (a.equals("--uninject") || a.equals("-d")) uninject = true;
            else if (a.equals("--status") || a.equals("-t")) status = true;
            else if (a.startsWith("-")) throw CommandException.usage("ndctl inject-error: unknown option '" + a + "'", USAGE);
            else if (namespace == null) namespace = a;
            else throw CommandException.usage("ndctl inject-error: only one namespace, not also '" + a + "'", USAGE);
        }
        if (namespace == null) throw CommandException.usage("ndctl inject-error: no namespace given", USAGE);
        Namespaces.Namespace device = device(namespace);
        String dev = device.region() != null ? "namespace" + device.region().id() + ".0" : device.name();
        if (status) {
            out.print(badBlocksJson(dev, device.badBlocks()));
            return;
        }
        if (block < 0) throw CommandException.usage("ndctl inject-error: --block is required", USAGE);
        if (count <= 0) throw CommandException.usage("ndctl inject-error: --count must be positive", USAGE);
        try {
            Region region = device.region();
            NfitPlatform platform = region == null ? null : platformOf(region);
            if (platform != null) {
                // Through the platform, as ACPI error injection: the pmem driver hears of it.
                if (uninject) platform.clearError(region.name(), block * 512, count * 512);
                else platform.injectError(region.name(), block * 512, count * 512);
            } else if (uninject) {
                device.clearError(block, count);
            } else {
                device.injectError(block, count);
            }
        } catch (IllegalArgumentException e) {
            throw new CommandException("ndctl inject-error: " + dev + ": " + e.getMessage(), e);
        }
        if (uninject) {
            out.println("Warning: Un-injecting previously injected errors here will\n"
                    + "not cause the kernel to 'forget' its badblock entries. Those\n"
                    + "have to be cleared through the normal process of writing\n"
                    + "the affected blocks");
        }
    }

    private Namespaces.Namespace device(String namespace) {
        if (pmem == null) throw new CommandException("ndctl inject-error: the pmem driver is not running");
        if (namespace.matches("namespace\\d+\\.0")) {
            String region = "region" + namespace.substring(9, namespace.indexOf('.'));
            Namespaces.Namespace d = pmem.deviceOf(region);
            if (d == null) throw new CommandException("ndctl inject-error: namespace not found: " + namespace);
            return d;
        }
        for (Namespaces.Namespace d : pmem.devices()) if (d.name().equals(namespace) || ("/dev/" + d.name()).equals(namespace)) return d;
        throw new CommandException("ndctl inject-error: namespace not found: " + namespace);
    }

    private NfitPlatform platformOf(Region region) {
        for (NfitPlatform p : platforms.get()) {
            if (p.region(region.name()).isPresent()) return p;
        }
        return null;
    }

    /** {@code ndctl inject-error --status}: the namespace's bad blocks, as ndctl's JSON. */
    static String badBlocksJson(String dev, List<BadBlocks.Range> ranges) {
        StringBuilder sb = new StringBuilder("{\n  \"dev\":\"").append(dev).append('"');
        if (!ranges.isEmpty()) {
            sb.append(",\n  \"badblocks\":[\n");
            for (int i = 0; i < ranges.size(); i++) {
                BadBlocks.Range r = ranges.get(i);
                sb.append("    {\n      \"block\":").append(r.sector()).append(",\n      \"count\":").append(r.count()).append("\n    }");
                sb.append(i < ranges.size() - 1 ? ",\n" : "\n");
            }
            sb.append("  ]");
        }
        return sb.append("\n}\n").toString();
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) throw CommandException.usage("ndctl inject-error: " + option + " needs a value", USAGE);
        return args.get(i);
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw CommandException.usage("ndctl inject-error: invalid number '" + text + "'", USAGE);
        }
    }
}
