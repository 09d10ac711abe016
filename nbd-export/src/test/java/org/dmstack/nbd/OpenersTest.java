package org.dmstack.nbd;

import static org.dmstack.nbd.ExportsFollowDevicesTest.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.Test;

/**
 * Each client's connection opens its export's device, as nbd-server opens its export's file per
 * client once the export is chosen and closes it when the client goes: the device counts it among
 * its openers, and a mapped device that is exported to a connected client is busy.
 */
class OpenersTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
    private final DevT ram0 = new DevT(DevT.RAMDISK_MAJOR, 0);

    OpenersTest() {
        registry.add(ram.disk);
    }

    private int count() {
        return registry.openCount(ram0);
    }

    @Test
    void eachConnectionIsAnOpenerFromTheChoiceOfItsExportToItsEnd() throws Exception {
        try (NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).start()) {
            try (RawClient listing = RawClient.negotiate(server.port())) {
                assertEquals(Nbd.REP_ACK, listing.info(Nbd.OPT_INFO, "ram0").type());
                assertEquals(0, count(), "a client that has not chosen the export has not opened it");
            }
            RawClient first = RawClient.open(server.port(), "ram0");
            RawClient second = RawClient.open(server.port(), "ram0"); // multi-conn: each connection its own opener
            eventually("both connections open ram0", () -> count() == 2);
            String client = "nbd client 127.0.0.1:" + first.socket.getLocalPort();
            assertTrue(registry.openers(ram0).contains(client), registry.openers(ram0).toString());
            first.disconnect(); // NBD_CMD_DISC
            first.close();
            eventually("a disconnect closes", () -> count() == 1);
            second.socket.close(); // the client goes without a word
            eventually("a dropped connection closes", () -> count() == 0);
        }
    }

    @Test
    void stoppingTheServerClosesEveryOpen() throws Exception {
        NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).start();
        try (RawClient c = RawClient.open(server.port(), "ram0")) {
            eventually("the connection opens ram0", () -> count() == 1);
            server.close();
            assertEquals(0, count());
        } finally {
            server.close();
        }
    }

    @Test
    void anOpenFollowsTheDeviceThroughAHotSwapAndACoreUpdate() throws Exception {
        BlockBackends first = new BlockBackends(registry);
        try (NbdServer server = NbdServer.builder().backends(first).port(0).export("disk=ram0").start();
                RawClient c = RawClient.open(server.port(), "disk")) {
            eventually("the connection opens ram0", () -> count() == 1);
            // The driver is updated: the device goes and comes back, the open stays.
            registry.remove(ram.disk);
            GenDisk again = ram.device("ram0", ram0, false, false, QueueLimits.of(512, 512));
            registry.add(again);
            assertEquals(0, c.read(1, 0, 4096).error());
            // The connection opens the device that came back, then gives back its open of the one
            // that went, on a thread of its own (Export.bind): for a moment ram0 counts both.
            eventually("the open of the device that went is given back", () -> count() == 1);
            // Core is updated: nbd-export stops (its backends are withdrawn) and starts over a new registry.
            first.close();
            BlockDeviceRegistry updated = new BlockDeviceRegistry();
            MemDisk after = MemDisk.of("ram0", 0, 1 << 20);
            updated.add(after.disk);
            server.backends(new BlockBackends(updated));
            assertEquals(0, c.read(2, 0, 4096).error());
            assertEquals(1, updated.openCount(ram0), "the connection opened the device of the new core");
            eventually("the connection lets go of the old core's device", () -> count() == 0);
            c.disconnect();
            eventually("the disconnect closes it", () -> updated.openCount(ram0) == 0);
        }
    }

    @Test
    void anExportedMappedDeviceIsBusyUntilItsLastClientGoesAndDeferredRemovalWaitsForIt() throws Exception {
        try (DeviceMapper dm = new DeviceMapper(registry);
                NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).export("lv=dm-0").start()) {
            dm.create("lv", "0 2048 zero");
            try (RawClient c = RawClient.open(server.port(), "lv")) {
                eventually("the client opens dm-0", () -> dm.info("lv").openCount() == 1);
                String client = "nbd client 127.0.0.1:" + c.socket.getLocalPort();
                DmException e = assertThrows(DmException.class, () -> dm.remove("lv"));
                assertEquals("remove ioctl on lv failed: Device or resource busy (used by " + client + ")", e.getMessage());
                dm.remove("lv", true);
                assertTrue(dm.info("lv").deferredRemove());
                assertEquals(0, c.read(1, 0, 4096).error(), "a device marked for deferred removal still serves its openers");
                c.disconnect();
            }
            eventually("the last disconnect removes it", () -> dm.list().isEmpty());
            assertEquals(List.of(), server.exportNames());
        }
    }
}
