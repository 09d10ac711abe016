package org.dmstack.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DiskStats.Snapshot;
import org.dmstack.shell.IostatFigures.Cpu;
import org.dmstack.shell.IostatFigures.Disk;
import org.dmstack.shell.IostatFigures.Report;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code iostat}: sysstat's report of device (and CPU) statistics, byte for byte as iostat 12.6
 * (Debian 12) prints it, from each device's {@code stat} attribute as iostat reads
 * /sys/block/NAME/stat: plain ({@link IostatText}) or JSON ({@link IostatJson}).
 *
 * <pre>
 * iostat -d                 every device that has done I/O, rates since start-up
 * iostat -dx 1 5            extended columns, five reports a second apart (each one of that second)
 * iostat -d dm-0 ram0       those devices, even idle
 * iostat -dxN -o JSON       mapped devices by their names, as JSON
 * </pre>
 *
 * <p>"Since start-up" is since dmstack started (iostat uses the system's uptime); the header and
 * the CPU report describe the machine dmstack runs on, as iostat there would.
 */
@Command(name = "iostat", description = {"I/O statistics of the devices (and the CPU), as sysstat's iostat prints them.",
    "Reports repeat every <interval> seconds, <count> times (or until interrupted); the first covers the time since dmstack started.",
    "Operands: [<device>...|ALL] [<interval> [<count>]]; ALL: every device, idle ones too.",
    "Not offered (no partitions, groups, persistent names or other sysfs here): -p, -g, -H, -j, -f, +f, -V."})
public final class Iostat implements Runnable {
    /** What the header line says of the machine (utsname, the date, the number of CPUs). */
    public record Host(String sysname, String release, String nodename, String machine, int cpus, LocalDate date) {
        public static Host current() {
            String node;
            try {
                node = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                node = "localhost";
            }
            int dot = node.indexOf('.');
            if (dot > 0) node = node.substring(0, dot);
            String arch = System.getProperty("os.arch");
            // uname -m words, as iostat prints them.
            if (arch.equals("amd64")) arch = "x86_64";
            return new Host(System.getProperty("os.name"), System.getProperty("os.version"), node, arch,
                    Runtime.getRuntime().availableProcessors(), LocalDate.now());
        }
    }

    /** Time as iostat sees it: the uptime in milliseconds, the wait between reports, the CPU counters. */
    public interface Clock {
        long uptimeMillis();

        void sleep(long millis) throws InterruptedException;

        /** /proc/stat's "cpu" line (user nice system idle iowait irq softirq steal), or null where there is none. */
        long[] cpuTimes();

        /** The local time, for -t. */
        default LocalDateTime now() {
            return LocalDateTime.now();
        }
    }

    /** The JVM's uptime, real sleeps and the host's /proc/stat. */
    public static Clock systemClock() {
        return new Clock() {
            @Override
            public long uptimeMillis() {
                return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
            }

            @Override
            public void sleep(long millis) throws InterruptedException {
                Thread.sleep(millis);
            }

            @Override
            public long[] cpuTimes() {
                try {
                    for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                        if (!line.startsWith("cpu ")) continue;
                        String[] f = line.trim().split("\\s+");
                        long[] v = new long[8];
                        for (int i = 0; i < 8 && i + 1 < f.length; i++) v[i] = Long.parseLong(f[i + 1]);
                        return v;
                    }
                } catch (IOException | RuntimeException e) {
                    // No /proc/stat (not Linux, or hidden): no CPU report.
                }
                return null;
            }
        };
    }

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("MM/dd/yy", Locale.ROOT);
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("MM/dd/yy HH:mm:ss", Locale.ROOT);

    private final BlockDeviceRegistry registry;
    private final Host host;
    private final Clock clock;

    public Iostat(BlockDeviceRegistry registry) {
        this(registry, Host.current(), systemClock());
    }

    public Iostat(BlockDeviceRegistry registry, Host host, Clock clock) {
        this.registry = registry;
        this.host = host;
        this.clock = clock;
    }

    // No --help: sysstat answers it as any option it does not know, with its usage (status 1).
    @Option(names = "-c", description = "The CPU report.")
    boolean cpu;
    @Option(names = "-d", description = "The device report.")
    boolean disk;
    @Option(names = "-h", description = "Human-readable: --pretty and --human.")
    boolean humanReadable;
    @Option(names = "-k", description = "Kilobytes (the default).")
    boolean kilobytes;
    @Option(names = "-m", description = "Megabytes.")
    boolean megabytes;
    @Option(names = "-N", description = "Mapped devices by their names (dmsetup's) instead of dm-N.")
    boolean mapperNames;
    @Option(names = "-s", description = "The short (narrow) device report.")
    boolean brief;
    @Option(names = "-t", description = "The time of each report.")
    boolean timestamp;
    @Option(names = "-x", description = "Extended statistics (r/s rkB/s ... f/s f_await aqu-sz %%util).")
    boolean extended;
    @Option(names = "-y", description = "Omit the first report (the one since start-up).")
    boolean omitFirst;
    @Option(names = "-z", description = "Omit devices with no activity in the interval.")
    boolean omitIdle;
    @Option(names = "--dec", paramLabel = "{0|1|2}", description = "Decimal places of the figures (default 2).")
    Integer decimals;
    @Option(names = "--human", description = "Sizes with their unit (12.0k, 1.5M) and shares with a percent sign.")
    boolean human;
    @Option(names = "--pretty", description = "The device name at the end of each line; the extended report in four parts.")
    boolean pretty;
    @Option(names = "--compact", description = "With the name at the end, the extended report on one line.")
    boolean compact;
    @Option(names = "-o", paramLabel = "JSON", description = "Print the reports as JSON.")
    String format;
    @Parameters(arity = "0..*", paramLabel = "<operand>", description = "Devices (or ALL), the interval and the count.")
    List<String> operands = List.of();

    /** sysstat's usage(), which iostat 12.6.1 prints (alone, exit status 1) for any command line it cannot take. */
    static final String USAGE = """
            Usage: iostat [ options ] [ <interval> [ <count> ] ]
            Options are:
            [ -c ] [ -d ] [ -h ] [ -k | -m ] [ -N ] [ -s ] [ -t ] [ -V ] [ -x ] [ -y ] [ -z ]
            [ { -f | +f } <directory> ] [ -j { ID | LABEL | PATH | UUID | ... } ]
            [ --compact ] [ --dec={ 0 | 1 | 2 } ] [ --human ] [ --pretty ] [ -o JSON ]
            [ [ -H ] -g <group_name> ] [ -p [ <device> [,...] | ALL ] ]
            [ <device> [...] | ALL ]""";
    /** iostat 12.6's options that dmstack does not offer. */
    private static final Set<String> LACKING = Set.of("-p", "-g", "-H", "-j", "-f", "-V");

    private PrintStream out;
    private final List<String> named = new ArrayList<>();
    private boolean all;
    private long interval;
    private long count = 1;

    /** Runs one iostat command line (without the word "iostat"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        this.out = out;
        Cli.run(new CommandLine(this), args, out, (e, a) -> {
            String option = e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty() ? u.getUnmatched().getFirst() : "";
            return new CommandException(LACKING.contains(option) ? "iostat: option '" + option + "' is not supported\n" + USAGE : USAGE);
        });
    }

    @Override
    public void run() {
        operands();
        boolean json = format != null;
        String unit = megabytes ? "MB" : "kB";
        int factor = megabytes ? 2048 : 2;
        IostatWriter writer = json ? new IostatJson(out, unit, factor, extended, brief)
                : new IostatText(out, unit, factor, extended, brief, pretty || humanReadable, human || humanReadable, compact,
                        decimals == null ? -1 : decimals);
        writer.start(host, host.date().format(DATE));
        long[] cpuBefore = new long[8];
        Map<String, Snapshot> before = new HashMap<>();
        long uptimeBefore = 0;
        boolean skip = omitFirst && interval > 0;
        while (true) {
            long uptime = clock.uptimeMillis();
            long[] cpuNow = cpu ? clock.cpuTimes() : null;
            Map<String, Snapshot> now = sample();
            if (!skip) {
                // iostat's interval is in hundredths of a second.
                long itv = Math.max(1, (uptime - uptimeBefore) / 10);
                writer.report(new Report(timestamp ? clock.now().format(TIMESTAMP) : null,
                        cpuNow == null ? null : Cpu.of(cpuBefore, cpuNow), disk ? disks(itv, before, now) : null));
                if (count > 0) count--;
            }
            if (count != 0) {
                before = now;
                uptimeBefore = uptime;
                if (cpuNow != null) cpuBefore = cpuNow;
                try {
                    clock.sleep(interval * 1000);
                    if (!skip) writer.between();
                } catch (InterruptedException e) {
                    // As iostat on SIGINT: the output is finished properly (JSON closed), then it stops.
                    Thread.currentThread().interrupt();
                    count = 0;
                }
                skip = false;
            }
            out.print("\n");
            if (count == 0) break;
        }
        writer.end();
    }

    /** Sorts the operands into devices, interval and count (in any order, as iostat takes them), and applies the report defaults. */
    private void operands() {
        // -k with -m, an output format other than JSON, --dec beyond 0-2: iostat's usage, nothing else.
        if (kilobytes && megabytes) throw usage();
        if (format != null && !format.equals("JSON")) throw usage();
        if (decimals != null && (decimals < 0 || decimals > 2)) throw usage();
        int numbers = 0;
        for (String a : operands) {
            if (!a.matches("\\d{1,18}")) {
                if (a.equals("ALL")) all = true;
                else named.add(a);
            } else if (numbers++ == 0) {
                interval = Long.parseLong(a);
                count = -1;
            } else if (numbers == 2) {
                count = Long.parseLong(a);
                if (count < 1 || interval == 0) throw usage(); // a count of 0, or a count after an interval of 0
            } else {
                throw usage(); // a third number
            }
        }
        if (interval == 0) count = 1;
        // Neither -c nor -d: both reports, as iostat does; devices and -x ask for the device report too.
        if (!cpu && !disk) {
            cpu = true;
            disk = true;
        }
        if (extended || all || !named.isEmpty()) disk = true;
    }

    /** What sysstat answers a command line it refuses: its usage alone, whatever the reason. */
    private static CommandException usage() {
        return new CommandException(USAGE);
    }

    /**
     * Each device's stat, by name, in name order (as iostat keeps its list): the devices named
     * (those that exist now: one that comes later is shown from then on, as in iostat), or all.
     */
    private Map<String, Snapshot> sample() {
        Map<String, Snapshot> m = new TreeMap<>();
        if (named.isEmpty() || all) {
            for (BlockDevice d : registry.devices()) put(m, d);
        }
        for (String name : named) {
            BlockDevice d = Devices.find(registry, name);
            if (d != null) put(m, d);
        }
        return m;
    }

    private static void put(Map<String, Snapshot> m, BlockDevice d) {
        if (d.attributes().has("stat")) m.put(d.name(), Snapshot.parse(d.attributes().read("stat")));
    }

    private List<Disk> disks(long itv, Map<String, Snapshot> before, Map<String, Snapshot> now) {
        List<Disk> disks = new ArrayList<>();
        boolean unfiltered = all || !named.isEmpty();
        for (Map.Entry<String, Snapshot> e : now.entrySet()) {
            Snapshot i = e.getValue();
            Snapshot j = before.getOrDefault(e.getKey(), Snapshot.ZERO);
            // A device that has never done I/O is left out unless it was named (or ALL was).
            if (!unfiltered && !Disk.used(i)) continue;
            if (omitIdle && Disk.idleBetween(i, j)) continue;
            if (Disk.restarted(i, j)) j = Snapshot.ZERO;
            disks.add(Disk.of(displayName(e.getKey()), itv, i, j));
        }
        return disks;
    }

    /** -N: a mapped device by its name, as iostat finds it in /dev/mapper. */
    private String displayName(String name) {
        if (!mapperNames) return name;
        BlockDevice d = registry.lookup(name);
        return d != null && d.attributes().has("dm/name") ? d.attributes().read("dm/name") : name;
    }
}
