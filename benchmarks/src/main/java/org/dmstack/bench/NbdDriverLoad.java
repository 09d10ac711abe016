package org.dmstack.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BioRing;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nbd.driver.NbdDevice;
import org.dmstack.nbd.driver.NbdDeviceConfig;
import org.dmstack.nbd.driver.NbdDriver;
import org.dmstack.units.Units;

/**
 * dmstack as an NBD client: the NBD driver's device over a server's export, kept busy with
 * sequential reads or writes from one thread through a {@link BioRing}, as fio's nbd engine keeps
 * a queue depth. After a second's warm-up it counts for the run time and prints one line:
 * {@code iops=N MBps=N cpu_us=N}, where cpu_us is this process's CPU time (every thread: the
 * driver's senders and receivers too) per request.
 *
 * <pre>
 * java -cp ... org.dmstack.bench.NbdDriverLoad URI read|write BS DEPTH SECONDS [CONNECTIONS]
 * </pre>
 *
 * BS takes K/M suffixes. The driver splits nothing it need not: a request is one bio, up to the
 * export's maximum block size.
 */
public final class NbdDriverLoad {
    private static final Duration WARM_UP = Duration.ofSeconds(1);

    private NbdDriverLoad() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: NbdDriverLoad URI read|write BS DEPTH SECONDS [CONNECTIONS]");
            System.exit(2);
        }
        boolean write = switch (args[1]) {
            case "read" -> false;
            case "write" -> true;
            default -> throw new IllegalArgumentException("read or write, not '" + args[1] + "'");
        };
        int bs = (int) Units.parseSize(args[2]);
        int depth = Integer.parseInt(args[3]);
        Duration runtime = Duration.ofMillis((long) (Double.parseDouble(args[4]) * 1000));
        int connections = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (NbdDriver driver = new NbdDriver(new BlockDeviceRegistry())) {
            NbdDevice nbd = driver.add(NbdDeviceConfig.of(args[0]).withConnections(connections));
            long limit = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            BlockDevice d;
            while ((d = nbd.device()) == null) {
                if (System.nanoTime() > limit) throw new IllegalStateException("no connection to " + args[0] + ": " + nbd.lastError());
                Thread.sleep(5);
            }
            long sectors = d.sizeBytes() >>> Units.SECTOR_SHIFT, step = bs >>> Units.SECTOR_SHIFT;
            BioOp op = write ? BioOp.WRITE : BioOp.READ;
            BioRing ring = new BioRing(depth);
            long next = 0;
            for (int i = 0; i < depth; i++) {
                MemorySegment buffer = Arena.global().allocate(bs, 4096).fill((byte) (i + 1));
                ring.queue(d, write ? Bio.write(next, buffer) : Bio.read(next, buffer));
                next = (next + step) % sectors;
            }
            ring.submit();
            long start = System.nanoTime() + WARM_UP.toNanos(), end = start + runtime.toNanos();
            long counted = -1, cpuAtStart = 0, now;
            do {
                Bio done = ring.take();
                BlkStatus status = done.await();
                if (!status.isOk()) throw new IllegalStateException(status.message());
                now = System.nanoTime();
                if (counted >= 0) counted++;
                else if (now - start >= 0) {
                    counted = 0;
                    start = now;
                    cpuAtStart = os.getProcessCpuTime();
                }
                ring.queue(d, done.reset(op, next, done.data()));
                ring.submit();
                next = (next + step) % sectors;
            } while (counted < 0 || now - end < 0);
            long cpu = os.getProcessCpuTime() - cpuAtStart;
            double seconds = (now - start) / 1e9;
            System.out.printf("iops=%.0f MBps=%.0f cpu_us=%.1f%n", counted / seconds, counted * (double) bs / seconds / 1e6, cpu / 1e3 / counted);
            while (ring.held() > 0) ring.take();
        }
    }
}
