package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.junit.jupiter.api.Test;

/**
 * The driver stopped and started again under a mapped device with I/O going on (what a bundle
 * update does): nbd0 leaves, dm holds the I/O, the new driver's nbd0 has the same number and dm
 * sends the held I/O there. Nothing acknowledged is lost and the writer sees no error.
 */
class DriverRestartTest {
    @Test
    void aMappedDeviceOverNbd0KeepsItsIoAcrossADriverRestart() throws Exception {
        BlockDeviceRegistry server = new BlockDeviceRegistry();
        BlockDeviceRegistry client = new BlockDeviceRegistry();
        Brd brd = new Brd(server, new BrdConfig(1, 8192), new PagePool());
        DeviceMapper dm = new DeviceMapper(client);
        dm.setHoldTimeout(30_000);
        dm.targetTypes().register(new StripedTargetType());
        NbdDriver first = new NbdDriver(client);
        NbdDriver second = new NbdDriver(client);
        try (NbdServer export = NbdServer.builder().port(0).backends(new BlockBackends(server)).export("disk=ram0").start()) {
            NbdDeviceConfig config = NbdDeviceConfig.of("nbd://127.0.0.1:" + export.port() + "/disk").withName("nbd0");
            first.add(config);
            Io.await(client, "nbd0");
            BlockDevice top = dm.create("top", "0 16384 striped 1 128 nbd0 0").disk();

            AtomicInteger acknowledged = new AtomicInteger();
            ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
            int blocks = 2048;
            Thread writer = Thread.ofPlatform().start(() -> {
                for (int block = 0; block < blocks; block++) {
                    BlkStatus s = Io.submit(top, Bio.write(block * 8L, MemorySegment.ofArray(Io.pattern(4096, block)), BioFlag.FUA));
                    if (s.isOk()) acknowledged.incrementAndGet();
                    else errors.add("block " + block + ": " + s);
                }
            });
            while (acknowledged.get() < 100) Thread.sleep(1);
            first.close();
            int atRestart = acknowledged.get();
            second.add(config);
            writer.join();

            assertEquals(List.of(), List.copyOf(errors));
            assertEquals(blocks, acknowledged.get());
            assertTrue(atRestart < blocks, "the driver restarted while writes were going on");
            assertEquals("43:0", Io.await(client, "nbd0").devt().toString(), "the same number, so dm rebinds it");
            for (int block = 0; block < blocks; block++) {
                assertArrayEquals(Io.pattern(4096, block), Io.read(server.lookup("ram0"), block * 8L, 4096), "block " + block + " on the server");
            }
        } finally {
            dm.close();
            second.close();
            brd.destroy();
        }
    }
}
