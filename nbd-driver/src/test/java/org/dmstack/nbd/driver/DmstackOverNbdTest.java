package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.stripe.StripedTargetType;
import org.dmstack.memory.PagePool;
import org.dmstack.nbd.BlockBackends;
import org.dmstack.nbd.server.NbdServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * dmstack against itself: two "machines" (registries) each export a RAM disk with nbd-export; a
 * third imports both and stripes over them. The data is found on each machine's RAM disk where
 * striping puts it, and the striped device is exported again.
 */
class DmstackOverNbdTest {
    private final BlockDeviceRegistry machineA = new BlockDeviceRegistry();
    private final BlockDeviceRegistry machineB = new BlockDeviceRegistry();
    private final BlockDeviceRegistry client = new BlockDeviceRegistry();
    private final Brd brdA = new Brd(machineA, new BrdConfig(1, 4096), new PagePool());
    private final Brd brdB = new Brd(machineB, new BrdConfig(1, 4096), new PagePool());
    private final NbdServer serverA;
    private final NbdServer serverB;
    private final NbdDriver nbd = new NbdDriver(client);
    private final DeviceMapper dm = new DeviceMapper(client);

    DmstackOverNbdTest() throws Exception {
        serverA = NbdServer.builder().port(0).backends(new BlockBackends(machineA)).export("disk=ram0").start();
        serverB = NbdServer.builder().port(0).backends(new BlockBackends(machineB)).export("disk=ram0").start();
        dm.targetTypes().register(new StripedTargetType());
    }

    @AfterEach
    void stop() {
        dm.close();
        nbd.close();
        serverA.close();
        serverB.close();
        brdA.destroy();
        brdB.destroy();
    }

    @Test
    void aStripeOverTwoImportedDmstackExportsPutsEachChunkOnItsMachine() throws Exception {
        nbd.add(NbdDeviceConfig.of("nbd://127.0.0.1:" + serverA.port() + "/disk").withConnections(2));
        nbd.add(NbdDeviceConfig.of("nbd://127.0.0.1:" + serverB.port() + "/disk").withConnections(2));
        BlockDevice nbd0 = Io.await(client, "nbd0");
        Io.await(client, "nbd1");
        assertEquals(2, awaitConnections(nbd.device("nbd0"), 2), "dmstack's export allows multi-conn");
        assertEquals("write through", nbd0.attributes().read("queue/write_cache"), "brd has no write cache, so the export takes no FLUSH");
        assertEquals("4096", nbd0.attributes().read("queue/physical_block_size"));

        BlockDevice striped = dm.create("remote", "0 16384 striped 2 128 nbd0 0 nbd1 0").disk();
        byte[] data = Io.pattern(8 * 65536, 21); // eight 64 KiB chunks: even ones on A, odd ones on B
        assertEquals(BlkStatus.OK, Io.submit(striped, Bio.write(0, MemorySegment.ofArray(data), BioFlag.FUA)));
        assertArrayEquals(data, Io.read(striped, 0, data.length));
        BlockDevice ramA = machineA.lookup("ram0");
        BlockDevice ramB = machineB.lookup("ram0");
        for (int chunk = 0; chunk < 8; chunk++) {
            BlockDevice machine = chunk % 2 == 0 ? ramA : ramB;
            long sector = (chunk / 2) * 128L;
            assertArrayEquals(Arrays.copyOfRange(data, chunk * 65536, (chunk + 1) * 65536), Io.read(machine, sector, 65536),
                    "chunk " + chunk + " on " + (chunk % 2 == 0 ? "A" : "B") + " at sector " + sector);
        }

        // The stacked device can itself be exported again, and read through a third import.
        try (NbdServer again = NbdServer.builder().port(0).backends(new BlockBackends(client)).export("remote=dm-0").start()) {
            nbd.add(NbdDeviceConfig.of("nbd://127.0.0.1:" + again.port() + "/remote"));
            BlockDevice nbd2 = Io.await(client, "nbd2");
            assertEquals(16384, nbd2.capacity());
            assertArrayEquals(data, Io.read(nbd2, 0, data.length));
            nbd.remove("nbd2");
        }
    }

    /** Connections open one after another: waits for {@code n}, returns how many there are. */
    private static int awaitConnections(NbdDevice device, int n) throws InterruptedException {
        long limit = System.nanoTime() + Io.LIMIT.toNanos();
        while (device.connections() < n && System.nanoTime() < limit) Thread.sleep(5);
        return device.connections();
    }
}
