package org.dmstack.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DiskStats.Snapshot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code iostat}: sysstat's report of device (and CPU) statistics, byte for byte as iostat 12.6
 * (Debian 12) prints it, from each device's {@code stat} attribute as iostat reads
 * /sys/block/NAME/stat.
 *
 * <pre>
 * iostat -d                 every device that has done I/O, rates since start-up
 * iostat -dx 1 5            extended columns, five reports a second apart (each one of that second)
 * iostat -d dm-0 ram0       those devices, even idle
 * </pre>
 *
 * <p>"Since start-up" is since dmstack started (iostat uses the system's uptime); the header and
 * the CPU report describe the machine dmstack runs on, as iostat there would.
 */
@Command(name = "iostat", customSynopsis = "iostat [ options ] [ <interval> [ <count> ] ]",
    description = {"I/O statistics of the devices (and the CPU), as sysstat's iostat prints them.",
    "Reports repeat every <interval> seconds, <count> times (or until interrupted); the first covers the time since dmstack started.",
    "Operands: [<device>...] [<interval> [<count>]]",
    "Not supported: -h -N -s -t -V -f +f -j --compact --dec --human --pretty -o -H -g -p ALL."})
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

    /** sysstat's usage(), which it prints (to the error stream, exit status 1) for any command line it cannot take. */
    static final String USAGE = """
            Usage: iostat [ options ] [ <interval> [ <count> ] ]
            Options are:
            [ -c ] [ -d ] [ -h ] [ -k | -m ] [ -N ] [ -s ] [ -t ] [ -V ] [ -x ] [ -y ] [ -z ]
            [ { -f | +f } <directory> ] [ -j { ID | LABEL | PATH | UUID | ... } ]
            [ --compact ] [ --dec={ 0 | 1 | 2 } ] [ --human ] [ --pretty ] [ -o JSON ]
            [ [ -H ] -g <group_name> ] [ -p [ <device> [,...] | ALL ] ]
            [ <device> [...] | ALL ]""";
    /** iostat 12.6's options that dmstack does not offer (-h is --human there, not help). */
    private static final Set<String> LACKING = Set.of("-h", "-N", "-s", "-t", "-V", "-f", "+f", "-j", "--compact", "--dec",
            "--human", "--pretty", "-o", "-H", "-g", "-p");

    @Option(names = "--help", usageHelp = true, description = "Show this help and exit.")
    boolean help;
    @Option(names = "-c", description = "The CPU report.")
    boolean cpu;
    @Option(names = "-d", description = "The device report.")
    boolean disk;
    @Option(names = "-x", description = "Extended statistics (r/s rkB/s ... f/s f_await aqu-sz %%util).")
    boolean extended;
    @Option(names = "-k", description = "Kilobytes (the default).")
    boolean kilobytes;
    @Option(names = "-m", description = "Megabytes.")
    boolean megabytes;
    @Option(names = "-y", description = "Omit the first report (the one since start-up).")
    boolean omitFirst;
    @Option(names = "-z", description = "Omit devices with no activity in the interval.")
    boolean omitIdle;
    @Parameters(arity = "0..*", paramLabel = "<operand>", description = "Devices, then the interval and the count.")
    List<String> operands = List.of();

    private PrintStream out;
    private int factor = 2; // sectors per unit: kB
    private String unit = "kB";
    private final TreeSet<String> devices = new TreeSet<>();
    private long interval;
    private long count = 1;

    /** Runs one iostat command line (without the word "iostat"), printing to {@code out}. */
    public void run(List<String> args, PrintStream out) {
        this.out = out;
        for (String a : args) {
            String option = a.startsWith("--") && a.contains("=") ? a.substring(0, a.indexOf('=')) : lacking(a);
            if (LACKING.contains(option)) throw new CommandException("iostat: option '" + option + "' is not supported\n" + USAGE);
        }
        try {
            Cli.run(new CommandLine(this), args, out);
        } catch (CommandException e) {
            // A command line iostat cannot take gets sysstat's usage, whatever picocli found wrong in it.
            throw e.getMessage().equals(USAGE) ? e : new CommandException(USAGE);
        }
    }

    /** In a cluster of short options ("-dN"), the first that dmstack lacks; else the word itself. */
    private static String lacking(String word) {
        if (!word.startsWith("-") || word.startsWith("--")) return word;
        for (char c : word.substring(1).toCharArray()) if (LACKING.contains("-" + c)) return "-" + c;
        return word;
    }

    @Override
    public void run() {
        operands();
        long[] cpuBefore = new long[8];
        Map<String, Snapshot> before = new HashMap<>();
        long uptimeBefore = 0;
        out.printf("%s %s (%s) \t%s \t_%s_\t(%d CPU)\n\n", host.sysname(), host.release(), host.nodename(),
                host.date().format(DateTimeFormatter.ofPattern("MM/dd/yy", Locale.ROOT)), host.machine(), host.cpus());
        boolean skip = omitFirst && interval > 0;
        while (true) {
            long uptime = clock.uptimeMillis();
            long[] cpu = this.cpu ? clock.cpuTimes() : null;
            Map<String, Snapshot> now = sample();
            if (!skip) {
                // iostat's interval is in hundredths of a second.
                long itv = Math.max(1, (uptime - uptimeBefore) / 10);
                if (cpu != null) cpuReport(cpuBefore, cpu);
                if (disk) deviceReport(itv, before, now);
                out.println();
                if (count > 0) count--;
            }
            out.println();
            if (count == 0 || interval == 0) return;
            before = now;
            uptimeBefore = uptime;
            if (cpu != null) cpuBefore = cpu;
            skip = false;
            try {
                clock.sleep(interval * 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Sorts the operands into devices, interval and count as sysstat does (a word that is not a
     * number names a device, wherever it stands; a device that does not exist shows nothing), and
     * applies the unit and the report defaults. What iostat refuses gets its usage.
     */
    private void operands() {
        if (megabytes && kilobytes) throw new CommandException(USAGE);
        if (megabytes) {
            factor = 2048;
            unit = "MB";
        }
        List<Long> numbers = new ArrayList<>();
        for (String a : operands) {
            if (a.matches("\\d{1,9}")) {
                if (numbers.size() == 2) throw new CommandException(USAGE);
                numbers.add(Long.parseLong(a));
            } else if (a.startsWith("-")) {
                throw new CommandException(USAGE);
            } else {
                devices.add(a.startsWith("/dev/") ? a.substring(5) : a);
            }
        }
        // Neither -c nor -d: both reports, as iostat does.
        if (!cpu && !disk) {
            cpu = true;
            disk = true;
        }
        if (!numbers.isEmpty()) {
            interval = numbers.get(0);
            count = numbers.size() > 1 ? numbers.get(1) : interval == 0 ? 1 : -1;
            // An interval of 0 is one report, and then only without a count.
            if (count == 0 || interval == 0 && numbers.size() > 1) throw new CommandException(USAGE);
        }
    }

    /** Each device's stat, by name, in name order (as iostat keeps its list). */
    private Map<String, Snapshot> sample() {
        Map<String, Snapshot> m = new java.util.TreeMap<>();
        for (BlockDevice d : registry.devices()) {
            if (!devices.isEmpty() && !devices.contains(d.name())) continue;
            if (!d.attributes().has("stat")) continue;
            m.put(d.name(), Snapshot.parse(d.attributes().read("stat")));
        }
        return m;
    }

    private void cpuReport(long[] p, long[] c) {
        long total = 0;
        for (int i = 0; i < 8; i++) total += c[i] - p[i];
        double t = Math.max(1, total);
        // user nice system idle iowait irq softirq steal
        double user = (c[0] - p[0]) / t * 100;
        double nice = (c[1] - p[1]) / t * 100;
        double system = (c[2] - p[2] + c[5] - p[5] + c[6] - p[6]) / t * 100;
        double iowait = (c[4] - p[4]) / t * 100;
        double steal = (c[7] - p[7]) / t * 100;
        double idle = c[3] < p[3] ? 0 : (c[3] - p[3]) / t * 100;
        out.println("avg-cpu:  %user   %nice %system %iowait  %steal   %idle");
        out.println("       " + f(7, user) + f(7, nice) + f(7, system) + f(7, iowait) + f(7, steal) + f(7, idle));
        out.println();
    }

    private void deviceReport(long itv, Map<String, Snapshot> before, Map<String, Snapshot> now) {
        String u = unit;
        if (extended) {
            out.println("Device            r/s     r" + u + "/s   rrqm/s  %rrqm r_await rareq-sz     w/s     w" + u
                    + "/s   wrqm/s  %wrqm w_await wareq-sz     d/s     d" + u + "/s   drqm/s  %drqm d_await dareq-sz"
                    + "     f/s f_await  aqu-sz  %util");
        } else {
            out.println("Device             tps    " + u + "_read/s    " + u + "_wrtn/s    " + u + "_dscd/s    "
                    + u + "_read    " + u + "_wrtn    " + u + "_dscd");
        }
        for (Map.Entry<String, Snapshot> e : now.entrySet()) {
            Snapshot i = e.getValue();
            Snapshot j = before.getOrDefault(e.getKey(), Snapshot.ZERO);
            // A device that has never done I/O is left out unless it was named.
            if (devices.isEmpty() && i.readIos() + i.writeIos() + i.discardIos() + i.flushIos() == 0) continue;
            if (omitIdle && i.readIos() == j.readIos() && i.writeIos() == j.writeIos() && i.discardIos() == j.discardIos()
                    && i.flushIos() == j.flushIos()) continue;
            // A device removed and made again since the last report counts from zero.
            if (i.readIos() + i.writeIos() + i.discardIos() + i.flushIos() < j.readIos() + j.writeIos() + j.discardIos() + j.flushIos()) {
                j = Snapshot.ZERO;
            }
            StringBuilder line = new StringBuilder(String.format("%-13s", e.getKey()));
            if (extended) extended(line, factor, itv, i, j);
            else basic(line, factor, itv, i, j);
            out.println(line);
        }
    }

    private static void basic(StringBuilder line, int fctr, long itv, Snapshot i, Snapshot j) {
        line.append(f(8, rate(j.readIos() + j.writeIos() + j.discardIos(), i.readIos() + i.writeIos() + i.discardIos(), itv)));
        line.append(f(12, rate(j.readSectors(), i.readSectors(), itv) / fctr));
        line.append(f(12, rate(j.writeSectors(), i.writeSectors(), itv) / fctr));
        line.append(f(12, rate(j.discardSectors(), i.discardSectors(), itv) / fctr));
        line.append(String.format(" %10d", (i.readSectors() - j.readSectors()) / fctr));
        line.append(String.format(" %10d", (i.writeSectors() - j.writeSectors()) / fctr));
        line.append(String.format(" %10d", (i.discardSectors() - j.discardSectors()) / fctr));
    }

    private static void extended(StringBuilder line, int fctr, long itv, Snapshot i, Snapshot j) {
        group(line, fctr, itv, i.readIos() - j.readIos(), i.readMerges() - j.readMerges(), i.readSectors() - j.readSectors(), i.readTicks() - j.readTicks());
        group(line, fctr, itv, i.writeIos() - j.writeIos(), i.writeMerges() - j.writeMerges(), i.writeSectors() - j.writeSectors(), i.writeTicks() - j.writeTicks());
        group(line, fctr, itv, i.discardIos() - j.discardIos(), i.discardMerges() - j.discardMerges(), i.discardSectors() - j.discardSectors(), i.discardTicks() - j.discardTicks());
        long flushes = i.flushIos() - j.flushIos();
        line.append(f(7, rate(0, flushes, itv)));
        line.append(f(7, flushes == 0 ? 0 : (i.flushTicks() - j.flushTicks()) / (double) flushes));
        line.append(f(7, rate(j.timeInQueue(), i.timeInQueue(), itv) / 1000.0));
        line.append(f(6, rate(j.ioTicks(), i.ioTicks(), itv) / 10.0));
    }

    /** r/s rkB/s rrqm/s %rrqm r_await rareq-sz, or the same for writes or discards. */
    private static void group(StringBuilder line, int fctr, long itv, long ios, long merges, long sectors, long ticks) {
        line.append(f(7, rate(0, ios, itv)));
        line.append(f(9, rate(0, sectors, itv) / fctr));
        line.append(f(8, rate(0, merges, itv)));
        line.append(f(6, merges + ios == 0 ? 0 : (double) merges / (merges + ios) * 100));
        line.append(f(7, ios == 0 ? 0 : ticks / (double) ios));
        // In kB whatever the unit, as iostat prints areq-sz.
        line.append(f(8, ios == 0 ? 0 : sectors / (double) ios / 2));
    }

    /** S_VALUE: a change per second, over an interval in hundredths of a second. */
    private static double rate(long before, long now, long itv) {
        return (double) (now - before) / itv * 100;
    }

    /** cprintf_f's " %*.2f", rounded as C rounds the exact binary value, and never "-0.00". */
    static String f(int width, double v) {
        if (v < 0.005 && v > -0.005) v = 0.0;
        String s = new BigDecimal(v).setScale(2, RoundingMode.HALF_EVEN).toPlainString();
        return " ".repeat(Math.max(1, width + 1 - s.length())) + s;
    }
}
