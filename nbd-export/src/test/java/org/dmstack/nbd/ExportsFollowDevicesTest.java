package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.ExportSpec;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.Test;

/** Exports follow devices in the registry; I/O during a hot swap is held, not failed. */
class ExportsFollowDevicesTest {

    /** Waits (with a safety net, not a timing assertion) until {@code condition} holds. */
    static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 60_000 && !condition.getAsBoolean(); i++) Thread.sleep(1);
        assertTrue(condition.getAsBoolean(), what);
    }

    @Test
    void withNoExportsConfiguredEveryDeviceIsExportedUnderItsOwnName() throws IOException {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        MemDisk ram0 = MemDisk.of("ram0", 0, 1 << 20);
        registry.add(ram0.disk);
        try (NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).start()) {
            assertEquals(List.of("ram0"), server.exportNames());
            MemDisk ram1 = MemDisk.of("ram1", 1, 2 << 20);
            registry.add(ram1.disk);
            assertEquals(List.of("ram0", "ram1"), server.exportNames(), "a device that arrives is exported");
            try (RawClient c = RawClient.open(server.port(), "ram1")) {
                assertEquals(2 << 20, c.size);
            }
            registry.remove(ram0.disk);
            assertEquals(List.of("ram1"), server.exportNames(), "a device that leaves is no longer offered");
            try (RawClient c = RawClient.negotiate(server.port())) {
                assertEquals(Nbd.REP_ERR_UNKNOWN, c.go("ram0").type());
            }
        }
    }

    @Test
    void aNamedExportWaitsForItsDevice() throws IOException {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        try (NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).export("later=ram7:ro").start()) {
            assertEquals(List.of(), server.exportNames());
            assertEquals(List.of(ExportSpec.parse("later=ram7:ro")), server.exports());
            try (RawClient c = RawClient.negotiate(server.port())) {
                assertEquals(Nbd.REP_ERR_UNKNOWN, c.go("later").type());
            }
            registry.add(MemDisk.of("ram7", 7, 1 << 20).disk);
            try (RawClient c = RawClient.open(server.port(), "later")) {
                assertTrue((c.transmissionFlags & Nbd.FLAG_READ_ONLY) != 0);
            }
        }
    }

    @Test
    void ioDuringAHotSwapIsHeldThenDoneOnTheDeviceThatComesBack() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        GenDisk before = ram.disk;
        registry.add(before);
        try (NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).export("disk=ram0").start();
                RawClient c = RawClient.open(server.port(), "disk")) {
            registry.remove(before); // the driver bundle is being updated
            byte[] data = pattern(8192, 1);
            c.request(0, Nbd.CMD_WRITE, 1, 4096, 8192, data);
            c.request(0, Nbd.CMD_READ, 2, 0, 4096, null);
            eventually("both requests wait for the device", () -> server.heldRequests() == 2);

            // The driver comes back with the same device (same name and number, same contents).
            GenDisk after = ram.device("ram0", new DevT(DevT.RAMDISK_MAJOR, 0), false, false, QueueLimits.of(512, 512));
            registry.add(after);
            RawClient.Reply first = c.simpleReply(h -> h == 2 ? 4096 : 0);
            RawClient.Reply second = c.simpleReply(h -> h == 2 ? 4096 : 0);
            assertEquals(0, first.error(), "held, not failed");
            assertEquals(0, second.error(), "held, not failed");
            assertEquals(Set.of(1L, 2L), Set.of(first.handle(), second.handle()));
            assertEquals(0, server.heldRequests());
            assertArrayEquals(data, ServerFixture.bytesAt(ram, 8, 8192));
        }
    }

    private static byte[] pattern(int n, long seed) {
        return ServerFixture.pattern(n, seed);
    }

    @Test
    void withAZeroHoldTimeoutIoToAMissingDeviceFailsWithEio() throws IOException {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        registry.add(ram.disk);
        try (NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).holdTimeout(Duration.ZERO).start();
                RawClient c = RawClient.open(server.port(), "ram0")) {
            registry.remove(ram.disk);
            RawClient.Reply r = c.write(1, 0, pattern(512, 2));
            assertEquals(Nbd.EIO, r.error());
        }
        assertEquals(0, ram.count(BioOp.WRITE), "nothing was written");
    }

    @Test
    void stoppingTheServerAnswersHeldRequestsWithEshutdownAndClosesThePort() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        registry.add(ram.disk);
        NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).start();
        int port = server.port();
        try (RawClient c = RawClient.open(port, "ram0")) {
            registry.remove(ram.disk);
            c.request(0, Nbd.CMD_WRITE, 5, 0, 512, pattern(512, 3));
            eventually("the write waits for the device", () -> server.heldRequests() == 1);
            server.close();
            RawClient.Reply r = c.reply();
            assertEquals(5, r.handle());
            assertEquals(Nbd.ESHUTDOWN, r.error());
            assertTrue(c.closedByServer());
        } finally {
            server.close();
        }
        assertEquals(0, ram.count(BioOp.WRITE));
        assertThrows(ConnectException.class, () -> new RawClient(port).close());
    }
}
