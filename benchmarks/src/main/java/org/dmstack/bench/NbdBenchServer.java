package org.dmstack.bench;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.memory.PagePool;
import org.dmstack.nbd.BlockBackends;
import org.dmstack.nbd.server.NbdServer;

/**
 * dmstack's side of the NBD comparison: a RAM disk (brd, like nbdkit's memory plugin: sparse,
 * allocated on write) exported as {@code disk} on 127.0.0.1, until the process is killed.
 *
 * <pre>
 * java -cp ... org.dmstack.bench.NbdBenchServer PORT [SIZE] [brd|linear]
 * </pre>
 *
 * SIZE takes K/M/G suffixes (default 1G). {@code linear} exports dm-linear over the RAM disk
 * instead of the RAM disk itself. Prints "ready nbd://127.0.0.1:PORT/disk" when it listens.
 * {@code -Ddmstack.nbd.busyPollMicros=N} sets the connections' busy poll (the export's
 * {@code busy_poll_us}; 0 turns it off).
 */
public final class NbdBenchServer {
    private NbdBenchServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: NbdBenchServer PORT [SIZE] [brd|linear]");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        long size = args.length > 1 ? Units.parseSize(args[1]) : 1L << 30;
        String layer = args.length > 2 ? args[2] : "brd";
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        Brd brd = new Brd(registry, new BrdConfig(1, size >> 10), new PagePool());
        String device = "ram0";
        DeviceMapper dm = null;
        if (layer.equals("linear")) {
            dm = Stacks.deviceMapper(registry);
            device = dm.create("disk", "0 " + (size >> Units.SECTOR_SHIFT) + " linear ram0 0").disk().name();
        } else if (!layer.equals("brd")) {
            System.err.println("NbdBenchServer: unknown layer '" + layer + "' (brd or linear)");
            System.exit(2);
        }
        long busyPollMicros = Long.getLong("dmstack.nbd.busyPollMicros", NbdServer.DEFAULT_BUSY_POLL_MICROS);
        NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).export("disk=" + device).address("127.0.0.1").port(port)
                .busyPoll(Duration.ofNanos(busyPollMicros * 1000)).start();
        DeviceMapper mapper = dm;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            if (mapper != null) {
                mapper.remove("disk");
                mapper.close();
            }
            brd.destroy();
        }));
        System.out.println("ready nbd://127.0.0.1:" + server.port() + "/disk (" + device + ", " + Stacks.human(size) + ")");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
