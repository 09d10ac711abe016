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
        assertThrows(CommandException.class, () -> run("-q"));
        assertThrows(CommandException.class, () -> run("sdz"));
        assertThrows(CommandException.class, () -> run("1", "2", "3"));
        assertThrows(CommandException.class, () -> run("0"));
        assertTrue(run("--help").startsWith("Usage: iostat"));
    }

    /** The real iostat (sysstat) with {@code option}, reading our stat files from a directory laid out as /sys. */
    private String realIostat(Path sys, String option) throws Exception {
        for (BlockDevice d : registry.devices()) {
            Path dir = Files.createDirectories(sys.resolve("block").resolve(d.name()));
            Files.writeString(dir.resolve("stat"), d.attributes().read("stat") + "\n");
        }
        Process p;
        try {
            p = new ProcessBuilder("iostat", option, "-f", sys.toString()).redirectErrorStream(true).start();
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
