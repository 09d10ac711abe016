package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.IoAccounting;
import org.dmstack.block.QueueLimits;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.linear.LinearTargetType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * iostat over a stack whose every bio takes 2 ms of a clock the disks move: dm-0 (linear over
 * pmem0, which has a write cache) and an idle pmem1, both with queue/iostats set; 100 s of uptime at the first report.
 */
class IostatTest {
    /** Headers as sysstat 12.6.1 (Debian 12) prints them. */
    static final String BASIC_HEADER = "Device             tps    kB_read/s    kB_wrtn/s    kB_dscd/s    kB_read    kB_wrtn    kB_dscd";
    static final String EXTENDED_HEADER = "Device            r/s     rkB/s   rrqm/s  %rrqm r_await rareq-sz     w/s     wkB/s   wrqm/s  %wrqm w_await wareq-sz"
            + "     d/s     dkB/s   drqm/s  %drqm d_await dareq-sz     f/s f_await  aqu-sz  %util";
    static final String HOST_LINE = "Linux 6.1.0-13-amd64 (box) \t11/30/26 \t_x86_64_\t(2 CPU)";

    private final AtomicLong jiffies = new AtomicLong();
    private final AtomicLong uptime = new AtomicLong(100_000);
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry, jiffies::get);
    private final BlockDevice dm0;
    private Runnable duringSleep = () -> {};
    private long[] cpu = {600, 0, 200, 1000, 100, 50, 50, 0};

    IostatTest() {
        for (int i = 0; i < 2; i++) {
            registry.add(GenDisk.builder("pmem" + i, new DevT(259, i), 8192, bio -> {
                jiffies.addAndGet(2);
                bio.endio(BlkStatus.OK);
            }).clock(jiffies::get).writeCache(i == 0, false).accounting(IoAccounting.IOSTATS, true)
                    .limits(QueueLimits.of(512, 4096).setDiscard(QueueLimits.UNLIMITED, 4096)).build()); // disks that discard

        }
        dm.targetTypes().register(new LinearTargetType());
        dm0 = dm.create("lv", "0 4096 linear pmem0 0").disk();
    }

    @AfterEach
    void close() {
        dm.close();
    }

    private void io(Bio bio) {
        dm0.submit(bio);
        assertEquals(BlkStatus.OK, bio.await());
    }

    /** 10 writes of 64 sectors, 5 reads of 8, a discard of 16, a flush (on these bio-based disks, a write of 0 sectors): 2 ms each. */
    private void knownIo() {
        for (int i = 0; i < 10; i++) io(Bio.write(i * 64, MemorySegment.ofArray(new byte[64 * 512])));
        for (int i = 0; i < 5; i++) io(Bio.read(i * 8, MemorySegment.ofArray(new byte[8 * 512])));
        io(Bio.discard(1024, 16 * 512));
        io(Bio.flush());
    }

    private String run(String... args) {
        Iostat.Host host = new Iostat.Host("Linux", "6.1.0-13-amd64", "box", "x86_64", 2, LocalDate.of(2026, 11, 30));
        Iostat.Clock clock = new Iostat.Clock() {
            @Override
            public long uptimeMillis() {
                return uptime.get();
            }

            @Override
            public void sleep(long millis) {
                duringSleep.run();
                uptime.addAndGet(millis);
            }

            @Override
            public LocalDateTime now() {
                return LocalDateTime.of(2026, 11, 30, 21, 40, 0).plusNanos(uptime.get() * 1_000_000);
            }

            @Override
            public long[] cpuTimes() {
                long[] now = cpu.clone();
                cpu = new long[] {cpu[0] + 100, cpu[1], cpu[2] + 20, cpu[3] + 60, cpu[4] + 10, cpu[5], cpu[6], cpu[7] + 10};
                return now;
            }
        };
        return Stack.capture((out, err) -> new Iostat(registry, host, clock).run(List.of(args), out));
    }

    /** Parses a device table back: each device's row as column name to value. */
    static Map<String, Map<String, Double>> parse(String report) {
        Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
        String[] columns = null;
        for (String line : report.split("\n")) {
            if (line.startsWith("Device")) {
                columns = line.trim().split("\\s+");
            } else if (columns != null && !line.isBlank()) {
                String[] v = line.trim().split("\\s+");
                assertEquals(columns.length, v.length, line);
                Map<String, Double> row = new HashMap<>();
                for (int i = 1; i < v.length; i++) row.put(columns[i], Double.parseDouble(v[i]));
                rows.put(v[0], row);
            } else {
                columns = null;
            }
        }
        return rows;
    }

    @Test
    void deviceReportSinceStartUp() {
        knownIo();
        // pmem1 has done nothing: left out. dm-0 and pmem0 saw the same bios (linear, no split).
        assertEquals(HOST_LINE + "\n\n" + BASIC_HEADER + "\n"
                + "dm-0              0.17         0.20         3.20         0.08         20        320          8\n"
                + "pmem0             0.17         0.20         3.20         0.08         20        320          8\n\n\n", run("-d"));
    }

    @Test
    void extendedReportParsedBack() {
        knownIo();
        String out = run("-x", "-d");
        String[] lines = out.split("\n");
        assertEquals(EXTENDED_HEADER, lines[2]);
        // The flush is one of the 11 writes (640 sectors: wareq-sz 29.09); f/s stays 0, as for any bio-based disk.
        assertEquals("dm-0             0.05      0.20     0.00   0.00    2.00     4.00    0.11      3.20     0.00   0.00    2.00    29.09"
                + "    0.01      0.08     0.00   0.00    2.00     8.00    0.00    0.00    0.00   0.03", lines[3]);
        Map<String, Double> dm = parse(out).get("dm-0");
        assertEquals(0.05, dm.get("r/s"));
        assertEquals(29.09, dm.get("wareq-sz"));
        assertEquals(0.0, dm.get("f/s"));
        assertEquals(0.0, dm.get("f_await"));
        assertEquals(0.03, dm.get("%util"));
        assertEquals(parse(out).get("dm-0"), parse(out).get("pmem0"));
    }

    @Test
    void intervalReportsCountOnlyTheirInterval() {
        knownIo();
        duringSleep = () -> {
            for (int i = 0; i < 4; i++) io(Bio.read(i * 8, MemorySegment.ofArray(new byte[8 * 512])));
        };
        String out = run("-dxz", "1", "2");
        String[] reports = out.split("\n\n\n");
        assertEquals(2, reports.length);
        Map<String, Map<String, Double>> second = parse(reports[1]);
        assertEquals(List.of("dm-0", "pmem0"), List.copyOf(second.keySet()));
        Map<String, Double> dm = second.get("dm-0");
        assertEquals(4.0, dm.get("r/s"));
        assertEquals(16.0, dm.get("rkB/s"));
        assertEquals(2.0, dm.get("r_await"));
        assertEquals(0.0, dm.get("w/s"));
        assertEquals(0.01, dm.get("aqu-sz"));
        // io_ticks: 4 reads of 2 ms; the flush before them, a write, ended at the clock's time, so the first read starts no new millisecond.
        assertEquals(0.8, dm.get("%util"));
        assertTrue(reports[1].startsWith(EXTENDED_HEADER + "\n"), reports[1]);
    }

    @Test
    void cpuReportAndNamedIdleDevices() {
        String out = run("pmem1", "/dev/pmem0");
        assertEquals(HOST_LINE + "\n\n"
                + "avg-cpu:  %user   %nice %system %iowait  %steal   %idle\n"
                + "          30.00    0.00   15.00    5.00    0.00   50.00\n\n"
                + BASIC_HEADER + "\n"
                + "pmem0             0.00         0.00         0.00         0.00          0          0          0\n"
                + "pmem1             0.00         0.00         0.00         0.00          0          0          0\n\n\n", out);
        // -y: the first report (since start-up) is left out; the second covers one interval of CPU time.
        out = run("-c", "-y", "1", "1");
        assertEquals(HOST_LINE + "\n\n\n"
                + "avg-cpu:  %user   %nice %system %iowait  %steal   %idle\n"
                + "          50.00    0.00   10.00    5.00    5.00   30.00\n\n\n\n", out);
    }

    @Test
    void refusesWhatItCannotDo() {
        // Each refused as iostat 12.6.1 refuses it (its usage, exit status 1); -p, -g and -j have nothing to show here.
        for (String[] args : new String[][] {{"-q"}, {"1", "2", "3"}, {"0", "2"}, {"1", "0"}, {"-k", "-m"}, {"-o", "XML"}, {"--dec=3"}, {"-p"}, {"-g", "x"}}) {
            CommandException e = assertThrows(CommandException.class, () -> run(args), String.join(" ", args));
            String usage = """
                    Usage: iostat [ options ] [ <interval> [ <count> ] ]
                    Options are:
                    [ -c ] [ -d ] [ -h ] [ -k | -m ] [ -N ] [ -s ] [ -t ] [ -V ] [ -x ] [ -y ] [ -z ]
                    [ { -f | +f } <directory> ] [ -j { ID | LABEL | PATH | UUID | ... } ]
                    [ --compact ] [ --dec={ 0 | 1 | 2 } ] [ --human ] [ --pretty ] [ -o JSON ]
                    [ [ -H ] -g <group_name> ] [ -p [ <device> [,...] | ALL ] ]
                    [ <device> [...] | ALL ]""";
            // sysstat prints its usage alone; an option it has and dmstack lacks says so first.
            String lacking = args[0].equals("-p") || args[0].equals("-g") ? "iostat: option '" + args[0] + "' is not supported\n" : "";
            assertEquals(lacking + usage, e.getMessage(), String.join(" ", args));
            assertEquals(1, e.exitStatus());
        }
        CommandException help = assertThrows(CommandException.class, () -> run("--help"));
        assertTrue(help.getMessage().startsWith("Usage: iostat [ options ]"), "sysstat has no --help: its usage, status 1");
        assertEquals(1, help.exitStatus());
    }

    /** As iostat 12.6.1: a device that does not exist is no error (it is shown once it does), and an interval of 0 is one report. */
    @Test
    void missingDevicesAndIntervalZeroAsIostat() {
        assertEquals(HOST_LINE + "\n\n" + BASIC_HEADER + "\n\n\n", run("-d", "sdz"));
        knownIo();
        assertEquals(run("-d"), run("-d", "0"));
        // ALL: every device, idle ones too; devices may follow the interval.
        assertEquals(List.of("dm-0", "pmem0", "pmem1"), List.copyOf(parse(run("-d", "ALL")).keySet()));
        assertEquals(List.of("pmem1"), List.copyOf(parse(run("-d", "1", "pmem1", "1")).keySet()));
        // A device named makes the device report, beside the CPU's if asked (-c); so does -x.
        String both = run("-c", "pmem1");
        assertTrue(both.contains("avg-cpu:") && both.contains(BASIC_HEADER), both);
        assertTrue(run("-c", "-x").contains(EXTENDED_HEADER));
    }

    /** -N: mapped devices by their names, as iostat finds them in /dev/mapper; the order stays by device name. */
    @Test
    void mapperNames() {
        knownIo();
        assertEquals(HOST_LINE + "\n\n" + BASIC_HEADER + "\n"
                + "lv                0.17         0.20         3.20         0.08         20        320          8\n"
                + "pmem0             0.17         0.20         3.20         0.08         20        320          8\n\n\n", run("-dN"));
        assertTrue(run("-dxN", "-o", "JSON").contains("{\"disk_device\": \"lv\", \"r/s\": 0.05,"));
    }

    /** -s, -h (--pretty --human), --compact, --dec and -t, as iostat 12.6.1 prints them for these counters. */
    @Test
    void shortHumanPrettyDecimalsAndTimestamps() {
        knownIo();
        assertEquals(HOST_LINE + "\n\n"
                + "Device             tps    kB_read/s     kB_w+d/s    kB_read     kB_w+d\n"
                + "dm-0              0.17         0.20         3.28         20        328\n"
                + "pmem0             0.17         0.20         3.28         20        328\n\n\n", run("-ds"));
        assertEquals(HOST_LINE + "\n\n"
                + "Device             tps      kB/s    rqm/s   await  areq-sz  aqu-sz  %util\n"
                + "dm-0              0.17      3.48     0.00    2.00    20.47    0.00   0.03\n"
                + "pmem0             0.17      3.48     0.00    2.00    20.47    0.00   0.03\n\n\n", run("-dxs"));
        assertEquals(HOST_LINE + "\n\n"
                + "     r/s     rkB/s   rrqm/s  %rrqm r_await rareq-sz Device\n"
                + "    0.05      0.2k     0.00   0.0%    2.00     4.0k dm-0\n"
                + "    0.05      0.2k     0.00   0.0%    2.00     4.0k pmem0\n\n"
                + "     w/s     wkB/s   wrqm/s  %wrqm w_await wareq-sz Device\n"
                + "    0.11      3.2k     0.00   0.0%    2.00    29.1k dm-0\n"
                + "    0.11      3.2k     0.00   0.0%    2.00    29.1k pmem0\n\n"
                + "     d/s     dkB/s   drqm/s  %drqm d_await dareq-sz Device\n"
                + "    0.01      0.1k     0.00   0.0%    2.00     8.0k dm-0\n"
                + "    0.01      0.1k     0.00   0.0%    2.00     8.0k pmem0\n\n"
                + "     f/s f_await  aqu-sz  %util Device\n"
                + "    0.00    0.00    0.00   0.0% dm-0\n"
                + "    0.00    0.00    0.00   0.0% pmem0\n\n\n", run("-dxh"));
        assertEquals(HOST_LINE + "\n\n"
                + "      tps    kB_read/s    kB_wrtn/s    kB_dscd/s    kB_read    kB_wrtn    kB_dscd Device\n"
                + "        0           0k           3k           0k        20k       320k         8k dm-0\n"
                + "        0           0k           3k           0k        20k       320k         8k pmem0\n\n\n", run("-dh", "--dec=0"));
        assertEquals(HOST_LINE + "\n\n"
                + "Device            r/s     rkB/s   rrqm/s  %rrqm r_await rareq-sz     w/s     wkB/s   wrqm/s  %wrqm w_await wareq-sz"
                + "     d/s     dkB/s   drqm/s  %drqm d_await dareq-sz     f/s f_await  aqu-sz  %util\n"
                + "dm-0                0         0        0      0       2        4       0         3        0      0       2       29"
                + "       0         0        0      0       2        8       0       0       0      0\n", run("--dec=0", "-dx", "dm-0").replace("\n\n\n", "\n"));
        assertEquals(HOST_LINE + "\n\n11/30/26 21:41:40\n"
                + "avg-cpu:  %user   %nice %system %iowait  %steal   %idle\n"
                + "           30.0     0.0    15.0     5.0     0.0    50.0\n\n\n\n", run("-t", "-c", "--dec=1"));
    }

    /** -o JSON as iostat 12.6.1 writes it: reports as they come, separated by commas, the first left out with -y. */
    @Test
    void jsonReports() {
        knownIo();
        String top = "{\"sysstat\": {\n\t\"hosts\": [\n\t\t{\n\t\t\t\"nodename\": \"box\",\n\t\t\t\"sysname\": \"Linux\",\n"
                + "\t\t\t\"release\": \"6.1.0-13-amd64\",\n\t\t\t\"machine\": \"x86_64\",\n\t\t\t\"number-of-cpus\": 2,\n"
                + "\t\t\t\"date\": \"11/30/26\",\n\t\t\t\"statistics\": [\n";
        String bottom = "\t\t\t]\n\t\t}\n\t]\n}}\n";
        assertEquals(top + "\t\t\t\t{\n"
                + "\t\t\t\t\t\"avg-cpu\":  {\"user\": 30.00, \"nice\": 0.00, \"system\": 15.00, \"iowait\": 5.00, \"steal\": 0.00, \"idle\": 50.00},\n"
                + "\t\t\t\t\t\"disk\": [\n"
                + "\t\t\t\t\t\t{\"disk_device\": \"dm-0\", \"tps\": 0.17, \"kB_read/s\": 0.20, \"kB_wrtn/s\": 3.20, \"kB_dscd/s\": 0.08, "
                + "\"kB_read\": 20, \"kB_wrtn\": 320, \"kB_dscd\": 8},\n"
                + "\t\t\t\t\t\t{\"disk_device\": \"pmem0\", \"tps\": 0.17, \"kB_read/s\": 0.20, \"kB_wrtn/s\": 3.20, \"kB_dscd/s\": 0.08, "
                + "\"kB_read\": 20, \"kB_wrtn\": 320, \"kB_dscd\": 8}\n"
                + "\t\t\t\t\t]\n\t\t\t\t}\n" + bottom, run("-o", "JSON"));
        String idle = "\"r/s\": 0.00, \"w/s\": 0.00, \"d/s\": 0.00, \"f/s\": 0.00, \"rMB/s\": 0.00, \"wMB/s\": 0.00, \"dMB/s\": 0.00, "
                + "\"rrqm/s\": 0.00, \"wrqm/s\": 0.00, \"drqm/s\": 0.00, \"rrqm\": 0.00, \"wrqm\": 0.00, \"drqm\": 0.00, "
                + "\"r_await\": 0.00, \"w_await\": 0.00, \"d_await\": 0.00, \"f_await\": 0.00, "
                + "\"rareq-sz\": 0.00, \"wareq-sz\": 0.00, \"dareq-sz\": 0.00, \"aqu-sz\": 0.00, \"util\": 0.00}";
        String report = "\t\t\t\t\t\"disk\": [\n\t\t\t\t\t\t{\"disk_device\": \"pmem1\", " + idle + "\n\t\t\t\t\t]\n\t\t\t\t}";
        assertEquals(top + "\n"
                + "\t\t\t\t{\n\t\t\t\t\t\"timestamp\": \"11/30/26 21:41:41\",\n" + report + ",\n"
                + "\t\t\t\t{\n\t\t\t\t\t\"timestamp\": \"11/30/26 21:41:42\",\n" + report + "\n" + bottom,
                run("-dxmty", "-o", "JSON", "pmem1", "1", "2"));
        // No device to show: an empty list, as iostat leaves it.
        assertEquals(top + "\n\t\t\t\t{\n\t\t\t\t\t\"disk\": [\n\n\t\t\t\t\t]\n\t\t\t\t}\n" + bottom, run("-dz", "-o", "JSON", "-y", "1", "1"));
    }

    /**
     * The real iostat over our stat files lays out every form alike: the same lines, columns and
     * widths (the rates depend on the uptime, which is the machine's there and dmstack's here, so
     * figures are compared by their shape; the other tests compare values).
     */
    @Test
    void sysstatLaysOutEveryFormAlike(@TempDir Path sys) throws Exception {
        knownIo();
        for (String options : List.of("-d", "-dx", "-ds", "-dxs", "-dxk", "-dm", "-dh", "-dxh", "-dxh --compact", "-dx --pretty", "--dec=0 -dx",
                "--dec=1 -d", "-dxs --human", "-d ALL", "-d pmem1 dm-0", "-d -o JSON", "-dx -o JSON", "-dxs -o JSON", "-dxm -o JSON")) {
            String real = realIostat(sys, options.split(" "));
            String ours = run(options.split(" "));
            assertEquals(shape(real), shape(ours), options + "\n" + real + "\n" + ours);
        }
    }

    /** A report without its host lines, every digit a 9: the layout and the figures' widths, not their values. */
    private static String shape(String report) {
        String body = report.startsWith("{") ? report.substring(report.indexOf("\"statistics\"")) : report.substring(report.indexOf('\n'));
        return body.replaceAll("\\d", "9");
    }

    /** The real iostat (sysstat) with {@code option}, reading our stat files from a directory laid out as /sys. */
    private String realIostat(Path sys, String... options) throws Exception {
        for (BlockDevice d : registry.devices()) {
            Path dir = Files.createDirectories(sys.resolve("block").resolve(d.name()));
            Files.writeString(dir.resolve("stat"), d.attributes().read("stat") + "\n");
        }
        Process p;
        try {
            // -f first: iostat looks a device named on its command line up in the sysfs it knows at that point.
            List<String> command = new java.util.ArrayList<>(List.of("iostat", "-f", sys.toString()));
            command.addAll(List.of(options));
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("iostat is missing: install the Debian package sysstat (.ci/run does)", e);
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    /**
     * The real iostat's extended report over our stat files: every column that does not depend on
     * the uptime (the averages and shares: await, areq-sz, %rqm) is the same, as is the layout.
     */
    @Test
    void sysstatsExtendedAveragesOfOurStatFilesAreOurs(@TempDir Path sys) throws Exception {
        knownIo();
        String real = realIostat(sys, "-dx");
        String ours = run("-dx");
        assertEquals(EXTENDED_HEADER, real.split("\n")[2], real);
        Map<String, Map<String, Double>> r = parse(real);
        Map<String, Map<String, Double>> o = parse(ours);
        assertEquals(o.keySet(), r.keySet(), real);
        for (String dev : o.keySet()) {
            for (String column : List.of("%rrqm", "r_await", "rareq-sz", "%wrqm", "w_await", "wareq-sz", "%drqm", "d_await", "dareq-sz", "f_await")) {
                assertEquals(o.get(dev).get(column), r.get(dev).get(column), dev + " " + column + "\n" + real);
            }
        }
    }

    /** The real iostat reads our stat files alike: the same totals and header. */
    @Test
    void sysstatReadsOurStatFilesAlike(@TempDir Path sys) throws Exception {
        knownIo();
        String real = realIostat(sys, "-d");
        String ours = run("-d");
        String[] r = real.split("\n");
        String[] o = ours.split("\n");
        assertEquals(o.length, r.length, real);
        assertEquals(o[2], r[2]);
        for (int i = 3; i < o.length; i++) {
            // Rates depend on the machine's uptime; the names and the totals must agree.
            List<String> rw = List.of(r[i].trim().split("\\s+"));
            List<String> ow = List.of(o[i].trim().split("\\s+"));
            assertEquals(ow.isEmpty() ? List.of() : List.of(ow.get(0), ow.get(ow.size() - 3), ow.get(ow.size() - 2), ow.get(ow.size() - 1)),
                    rw.isEmpty() ? List.of() : List.of(rw.get(0), rw.get(rw.size() - 3), rw.get(rw.size() - 2), rw.get(rw.size() - 1)));
            assertEquals(o[i].length(), r[i].length(), "column alignment\n" + r[i] + "\n" + o[i]);
        }
    }
}
