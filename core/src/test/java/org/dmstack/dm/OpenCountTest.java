package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.BdevHandle;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Open counts as 6.1 keeps them: blkdev_get_by_dev and blkdev_put count every opener of a device
 * (bd_openers), dm_blk_open and dm_blk_close a mapped device's open_count, which dm_open_count
 * reports and dm_lock_for_deletion refuses to remove while it is not 0. dm_get_table_device opens
 * a device once per mapped device, whatever its tables.
 */
class OpenCountTest {
    private final DmFixture f = new DmFixture();
    private final List<DevT> released = new ArrayList<>();

    OpenCountTest() {
        f.registry.addListener(new BlockDeviceRegistry.Listener() {
            @Override
            public void released(DevT devt) {
                released.add(devt);
            }
        });
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void everyOpenCountsUntilItsHandleIsClosedOnce() {
        DevT ram0 = f.ram0.disk.devt();
        BdevHandle dd = f.registry.open(f.ram0.disk, "dd");
        BdevHandle nbd = f.registry.open(f.ram0.disk, "nbd client 127.0.0.1:40000");
        assertEquals(2, f.registry.openCount(ram0));
        assertEquals(List.of("dd", "nbd client 127.0.0.1:40000"), f.registry.openers(ram0));
        assertSame(f.ram0.disk, dd.device());
        dd.close();
        // blkdev_put is not called twice: a second close of the same handle puts nothing.
        dd.close();
        assertFalse(dd.isOpen());
        assertEquals(1, f.registry.openCount(ram0));
        assertEquals(List.of("nbd client 127.0.0.1:40000"), f.registry.openers(ram0));
        assertEquals(List.of(), released);
        nbd.close();
        assertEquals(0, f.registry.openCount(ram0));
        assertEquals(List.of(ram0), released, "the last opener's close releases the device, once");
    }

    @Test
    void aDeviceThatIsNotPublishedCannotBeOpened() {
        f.registry.remove(f.ram1.disk);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.registry.open(f.ram1.disk, "dd"));
        assertEquals("ram1: No such device or address", e.getMessage());
        assertEquals(0, f.registry.openCount(f.ram1.disk.devt()));
    }

    @Test
    void aDeviceLockedForDeletionOpensNoMoreUntilItIsRemoved() {
        // dm_lock_for_deletion sets DMF_DELETING, and dm_blk_open then refuses (ENXIO).
        BdevHandle dd = f.registry.open(f.ram0.disk, "dd");
        assertFalse(f.registry.lockForDeletion(f.ram0.disk.devt()), "open: not locked");
        dd.close();
        f.registry.open(f.ram0.disk, "dd").close();
        assertTrue(f.registry.lockForDeletion(f.ram0.disk.devt()));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.registry.open(f.ram0.disk, "nbd client 127.0.0.1:40000"));
        assertEquals("ram0: No such device or address", e.getMessage());
        assertEquals(0, f.registry.openCount(f.ram0.disk.devt()));
        f.registry.remove(f.ram0.disk);
        f.registry.add(f.ram0.disk);
        f.registry.open(f.ram0.disk, "dd").close();
    }

    @Test
    void aMappedDeviceCountsEveryOpenerAndIsBusyUntilTheLastCloses() {
        f.dm.create("lower", "0 2048 testlinear ram0 0");
        f.dm.create("upper", "0 2048 testlinear lower 0");
        BlockDevice lower = f.dm.get("lower").disk();
        BdevHandle nbd = f.registry.open(lower, "nbd client 127.0.0.1:40000");
        BdevHandle dd = f.registry.open(lower, "dd");
        assertEquals(3, f.dm.info("lower").openCount());
        DmException e = assertThrows(DmException.class, () -> f.dm.remove("lower"));
        assertEquals("remove ioctl on lower failed: Device or resource busy (used by upper, nbd client 127.0.0.1:40000, dd)", e.getMessage());
        f.dm.remove("upper");
        dd.close();
        e = assertThrows(DmException.class, () -> f.dm.remove("lower"));
        assertEquals("remove ioctl on lower failed: Device or resource busy (used by nbd client 127.0.0.1:40000)", e.getMessage());
        assertEquals(1, f.dm.info("lower").openCount());
        nbd.close();
        assertEquals(0, f.dm.info("lower").openCount());
        f.dm.remove("lower");
        assertTrue(f.dm.list().isEmpty());
    }

    @Test
    void aDeferredRemovalHappensAtTheLastClose() {
        // dm_blk_close: the last close of a device marked DMF_DEFERRED_REMOVE queues dm_deferred_remove.
        f.dm.create("lv", "0 2048 testlinear ram0 0");
        BdevHandle first = f.registry.open(f.dm.get("lv").disk(), "nbd client 127.0.0.1:40000");
        BdevHandle second = f.registry.open(f.dm.get("lv").disk(), "nbd client 127.0.0.1:40001");
        f.dm.remove("lv", true);
        assertTrue(f.dm.info("lv").deferredRemove());
        first.close();
        assertEquals(1, f.dm.info("lv").openCount());
        second.close();
        assertEquals(List.of(), f.dm.list());
        assertEquals(0, f.registry.openCount(f.ram0.disk.devt()), "its table let go of ram0 too");
        // A handle closed after its device went puts nothing more.
        second.close();
    }

    @Test
    void cancellingADeferredRemovalKeepsTheDeviceAfterTheLastClose() {
        f.dm.create("lv", "0 2048 testlinear ram0 0");
        BdevHandle h = f.registry.open(f.dm.get("lv").disk(), "dd");
        f.dm.remove("lv", true);
        f.dm.message("lv", 0, List.of("@cancel_deferred_remove"));
        h.close();
        assertEquals(0, f.dm.info("lv").openCount());
    }

    @Test
    void aTableSwapCountsTheDevicesBelowOncePerMappedDevice() {
        // dm_get_table_device: the tables of one mapped device share its table_devices, one open each.
        f.dm.create("lv", "0 1024 testlinear ram0 0\n1024 1024 testlinear ram0 1024");
        DevT ram0 = f.ram0.disk.devt();
        BdevHandle dd = f.registry.open(f.ram0.disk, "dd");
        assertEquals(2, f.registry.openCount(ram0));
        f.dm.load("lv", "0 2048 testlinear ram0 0");
        assertEquals(2, f.registry.openCount(ram0), "the inactive table shares the live one's open");
        f.dm.suspend("lv");
        f.dm.resume("lv");
        assertEquals(2, f.registry.openCount(ram0));
        f.dm.create("other", "0 1024 testlinear ram0 0");
        assertEquals(3, f.registry.openCount(ram0));
        f.dm.load("lv", "0 2048 testlinear ram1 0");
        f.dm.resume("lv");
        assertEquals(2, f.registry.openCount(ram0));
        assertEquals(1, f.registry.openCount(f.ram1.disk.devt()));
        dd.close();
        assertEquals(1, f.registry.openCount(ram0));
        assertEquals(List.of(), released, "other still has ram0 open");
    }

    @Test
    void anOpenHandleGoesOnWithTheDeviceThatComesBackAfterAHotSwap() {
        DevT ram0 = f.ram0.disk.devt();
        BdevHandle h = f.registry.open(f.ram0.disk, "nbd client 127.0.0.1:40000");
        // The driver is updated: its disk withdrawn, a new one with the same name and number published.
        f.registry.remove(f.ram0.disk);
        assertTrue(h.isOpen());
        assertEquals(1, f.registry.openCount(ram0));
        assertEquals(null, h.device());
        MemDisk again = new MemDisk("ram0", ram0, 2048);
        f.registry.add(again.disk);
        assertSame(again.disk, h.device());
        assertEquals(1, f.registry.openCount(ram0));
        MemorySegment data = Arena.ofAuto().allocate(512);
        data.fill((byte) 0x5a);
        Bio write = Bio.write(0, data);
        h.device().submit(write);
        assertEquals(BlkStatus.OK, write.await());
        assertEquals((byte) 0x5a, again.memory.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        h.close();
        assertEquals(0, f.registry.openCount(ram0));
        assertEquals(List.of(ram0), released);
    }
}
