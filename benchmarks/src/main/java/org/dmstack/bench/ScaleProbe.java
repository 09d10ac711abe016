package org.dmstack.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.dmstack.memory.PagePool;
import org.dmstack.pmem.Pmem;
import org.dmstack.pmem.PmemConfig;
import org.dmstack.pmem.PmemDevice;

/**
 * Scale figures that are not rates, measured once in the runner's JVM: what a 1 TiB sparse RAM
 * disk and a 100,000-target table cost in memory, and a pmem region above 4 GiB (a sparse file,
 * deleted afterwards) written and read through DAX above the 4 GiB mark, directly and through
 * dm-linear.
 */
final class ScaleProbe {
    /** One figure: what, how much, in what unit, and a note. */
    record Row(String what, double value, String unit, String note) {}

    private ScaleProbe() {}

    /**
     * @param pmemDir where the sparse region file goes
     * @param ioBytes how much to write and read above 4 GiB (the full run uses 256 MiB)
     */
    static List<Row> run(Path pmemDir, long ioBytes) {
        List<Row> rows = new ArrayList<>();
        brd1TiB(rows);
        table100k(rows);
        pmemAbove4GiB(rows, pmemDir, ioBytes);
        return rows;
    }

    private static void brd1TiB(List<Row> rows) {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        PagePool pool = new PagePool();
        long heap0 = heapUsed();
        long t0 = System.nanoTime();
        Brd brd = new Brd(registry, new BrdConfig(1, 1L << 30), pool);
        long t1 = System.nanoTime();
        long heap1 = heapUsed();
        BlockDevice ram0 = registry.lookup("ram0");
        rows.add(new Row("1 TiB RAM disk: start-up", (t1 - t0) / 1e6, "ms", "new Brd(rd_nr=1, rd_size=1T), first start in this JVM"));
        rows.add(new Row("1 TiB RAM disk: heap after start-up", (heap1 - heap0) / 1024.0, "KiB", "live heap after a GC, delta"));
        rows.add(new Row("1 TiB RAM disk: memory held after start-up", pool.bytesHeld(), "bytes", "brd/mem_used"));
        // One 4 KiB page written in every GiB: 1024 pages spread over the whole terabyte.
        MemorySegment page = MemorySegment.ofArray(new byte[4096]);
        page.fill((byte) 1);
        for (long gib = 0; gib < 1024; gib++) Stacks.check(Stacks.submit(ram0, Bio.write((gib << 30) >> Units.SECTOR_SHIFT, page)));
        MemorySegment back = MemorySegment.ofArray(new byte[4096]);
        Stacks.check(Stacks.submit(ram0, Bio.read(((1L << 40) - 4096) >> Units.SECTOR_SHIFT, back)));
        long heap2 = heapUsed();
        rows.add(new Row("1 TiB RAM disk: memory held after 1024 pages written (one per GiB)", pool.bytesHeld() / 1024.0, "KiB",
                "brd/mem_used; the last sector (1 TiB - 4 KiB) reads back"));
        rows.add(new Row("1 TiB RAM disk: heap after 1024 pages written", (heap2 - heap0) / 1024.0, "KiB", "page index, live heap delta"));
        brd.destroy();
    }

    private static void table100k(List<Row> rows) {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        Brd brd = new Brd(registry, new BrdConfig(1, ScaleBench.TARGETS * ScaleBench.TARGET_SECTORS / 2), new PagePool());
        DeviceMapper dm = Stacks.deviceMapper(registry);
        String text = ScaleBench.linearTable(ScaleBench.TARGETS, ScaleBench.TARGET_SECTORS);
        long heap0 = heapUsed();
        long t0 = System.nanoTime();
        dm.create("big", text);
        long t1 = System.nanoTime();
        long heap1 = heapUsed();
        String table = dm.table("big");
        long lines = table.lines().count();
        rows.add(new Row("100,000-target table: first load", (t1 - t0) / 1e6, "ms",
                "cold, in this JVM; JMH's tableLoad100k is the warm figure; dmsetup table prints " + lines + " lines"));
        rows.add(new Row("100,000-target table: heap held", (heap1 - heap0) / 1024.0 / 1024.0, "MiB", "live heap delta after a GC"));
        dm.remove("big");
        dm.close();
        brd.destroy();
    }

    private static void pmemAbove4GiB(List<Row> rows, Path dir, long ioBytes) {
        long size = 5L << 30;
        long at = 4L << 30;
        Path file;
        try {
            file = Files.createTempFile(dir, "dmstack-bench-5g-", ".img");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        Pmem pmem = new Pmem(registry);
        DeviceMapper dm = null;
        try {
            long t0 = System.nanoTime();
            PmemDevice dev = pmem.create(PmemConfig.file(file, size, true).withName("pmem0"));
            long t1 = System.nanoTime();
            rows.add(new Row("5 GiB pmem region (sparse file): create and map", (t1 - t0) / 1e6, "ms", "file in " + dir));
            DaxDevice dax = dev.device().dax();
            dax.setWriteCache(false);
            dm = Stacks.deviceMapper(registry);
            DaxDevice linear = dm.create("big", "0 " + (size >> Units.SECTOR_SHIFT) + " linear pmem0 0").disk().dax();
            byte[] buf = new byte[1 << 20];
            for (int i = 0; i < buf.length; i++) buf[i] = (byte) (i * 31 + 7);
            for (String via : List.of("pmem0", "dm-linear")) {
                DaxDevice d = via.equals("pmem0") ? dax : linear;
                long w0 = System.nanoTime();
                for (long off = 0; off < ioBytes; off += buf.length) FsDax.write(d, at + off, IovIter.iovec(buf));
                long w1 = System.nanoTime();
                byte[] back = new byte[buf.length];
                boolean same = true;
                long r0 = System.nanoTime();
                for (long off = 0; off < ioBytes; off += buf.length) {
                    FsDax.read(d, at + off, IovIter.iovec(back));
                    same &= Arrays.equals(buf, back);
                }
                long r1 = System.nanoTime();
                if (!same) throw new IllegalStateException("data read back above 4 GiB through " + via + " differs");
                String what = "5 GiB pmem region: " + Stacks.human(ioBytes) + " DAX ";
                rows.add(new Row(what + "write at 4 GiB through " + via, gibps(ioBytes, w1 - w0), "GiB/s",
                        "first touch of each page (page faults), DAX write cache off"));
                rows.add(new Row(what + "read at 4 GiB through " + via, gibps(ioBytes, r1 - r0), "GiB/s", "read back and compared: equal"));
            }
            dax.setWriteCache(true);
            long f0 = Memory.forces();
            long s0 = System.nanoTime();
            FsDax.write(dax, size - buf.length, IovIter.iovec(buf));
            long s1 = System.nanoTime();
            rows.add(new Row("5 GiB pmem region: durable 1 MiB write at the last MiB (write cache on)", (s1 - s0) / 1e6, "ms",
                    (Memory.forces() - f0) + " force(s); the file is on " + fileSystem(dir)));
            rows.add(new Row("5 GiB pmem region: disk space used by the sparse file", allocatedBytes(file) / 1024.0 / 1024.0, "MiB",
                    "of 5 GiB apparent size (du)"));
        } finally {
            if (dm != null) {
                dm.remove("big");
                dm.close();
            }
            pmem.close();
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // reported below
            }
        }
        rows.add(new Row("5 GiB pmem region: file deleted afterwards", Files.exists(file) ? 0 : 1, "", Files.exists(file) ? "NO: " + file : "yes"));
    }

    private static double gibps(long bytes, long nanos) {
        return bytes / (double) (1L << 30) / (nanos / 1e9);
    }

    static long heapUsed() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Disk space the file really uses (du), or -1 when du is not there. */
    static long allocatedBytes(Path file) {
        try {
            Process p = new ProcessBuilder("du", "-k", file.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor();
            return Long.parseLong(out.split("\\s+")[0]) * 1024;
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The file system type of {@code dir} (tmpfs, ext4, ...). */
    static String fileSystem(Path dir) {
        try {
            return Files.getFileStore(dir).type();
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e12) return String.format(Locale.ROOT, "%,d", (long) v);
        if (Math.abs(v) >= 100) return String.format(Locale.ROOT, "%,.0f", v);
        if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
