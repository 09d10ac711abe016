package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A mapped device's states and what moves it between them, as Linux 6.1's dm-ioctl.c
 * (dev_create, dev_rename, do_suspend, do_resume, table_load, dev_remove, dev_wait) and dm.c
 * (dm_resume, event_callback) have them.
 */
class LifecycleTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void renameRaisesTheLiveTablesEvent() {
        // dm_hash_rename: dm_table_event on the live table, so only a device with one counts it.
        f.dm.create("lv", "0 8 zero");
        f.dm.create("bare", null);
        f.dm.rename("lv", "lv2");
        f.dm.rename("bare", "bare2");
        assertEquals(1, f.dm.info("lv2").eventNumber());
        assertEquals(0, f.dm.info("bare2").eventNumber());
        // A table loaded but not resumed is not bound to the device (__bind): no event either.
        f.dm.load("bare2", "0 8 zero");
        f.dm.rename("bare2", "bare3");
        assertEquals(0, f.dm.info("bare3").eventNumber());
        // Suspend, load and resume raise none (do_suspend, table_load, do_resume send uevents only).
        f.dm.suspend("lv2");
        f.dm.load("lv2", "0 16 zero");
        f.dm.resume("lv2");
        assertEquals(1, f.dm.info("lv2").eventNumber());
    }

    @Test
    void renameRefusesANameInUse() {
        f.dm.create("a", "0 8 zero");
        f.dm.create("b", "0 8 zero");
        DmException e = assertThrows(DmException.class, () -> f.dm.rename("a", "b"));
        assertEquals("rename ioctl on a failed: Device or resource busy (Unable to change name on mapped device a to one that already exists: b)",
                e.getMessage());
        // Renaming to its own name is the same case in dm_hash_rename: the new name is taken.
        assertThrows(DmException.class, () -> f.dm.rename("a", "a"));
        assertEquals(0, f.dm.info("a").eventNumber());
        // Looked up as /dev/mapper/NAME, the device is renamed all the same.
        f.dm.rename("/dev/mapper/a", "c");
        assertEquals("c", f.dm.info("c").name());
        assertThrows(DmException.class, () -> f.dm.info("a"));
    }

    @Test
    void aUuidIsSetOnceAndNeverShared() {
        // dev_rename with DM_UUID_FLAG and dm_hash_rename's checks, in the kernel's order.
        f.dm.create("a", "0 8 zero");
        f.dm.create("b", "uuid-b", "0 8 zero");
        f.dm.setUuid("a", "uuid-a");
        assertEquals("uuid-a", f.dm.info("a").uuid());
        assertEquals("uuid-a", f.dm.get("a").disk().attributes().read("dm/uuid"));
        assertEquals(1, f.dm.info("a").eventNumber());
        DmException e = assertThrows(DmException.class, () -> f.dm.setUuid("a", "uuid-c"));
        assertEquals("rename ioctl on a failed: Invalid argument (Unable to change uuid of mapped device a to uuid-c because uuid is already set to uuid-a)",
                e.getMessage());
        f.dm.create("c", "0 8 zero");
        e = assertThrows(DmException.class, () -> f.dm.setUuid("c", "uuid-b"));
        assertEquals("rename ioctl on c failed: Device or resource busy (Unable to change uuid on mapped device c to one that already exists: uuid-b)",
                e.getMessage());
        e = assertThrows(DmException.class, () -> f.dm.setUuid("c", "u".repeat(129)));
        assertEquals("rename ioctl on c failed: Invalid argument (Invalid new mapped device name or uuid string supplied.)", e.getMessage());
        assertNull(f.dm.info("c").uuid());
        f.dm.setUuid("c", "u".repeat(128));
        assertEquals(128, f.dm.info("c").uuid().length());
    }

    @Test
    void aSuspendedDeviceWithoutATableCannotResume() {
        // dm_resume: no map, -EINVAL; the device stays suspended until a table is loaded.
        f.dm.create("bare", null);
        f.dm.suspend("bare");
        DmException e = assertThrows(DmException.class, () -> f.dm.resume("bare"));
        assertEquals("resume ioctl on bare failed: Invalid argument (no table to resume: load one first)", e.getMessage());
        assertTrue(f.dm.info("bare").suspended());
        f.dm.load("bare", "0 8 zero");
        f.dm.resume("bare");
        DeviceInfo info = f.dm.info("bare");
        assertFalse(info.suspended());
        assertTrue(info.liveTable());
        assertFalse(info.inactiveTable());
    }

    @Test
    void resumeWithNothingToSwapChangesNothing() {
        // do_resume: no new_map and not suspended: nothing to do, and no error.
        f.dm.create("bare", null);
        f.dm.resume("bare");
        f.dm.create("lv", "0 8 zero");
        f.dm.resume("lv");
        assertEquals(new DeviceInfo("bare", null, new DevT(254, 0), false, false, false, 0, 0, 0), f.dm.info("bare"));
        assertEquals(new DeviceInfo("lv", null, new DevT(254, 1), false, true, false, 0, 0, 1), f.dm.info("lv"));
        // do_suspend of a suspended device returns its status and changes nothing.
        f.dm.suspend("lv");
        f.dm.suspend("lv");
        assertTrue(f.dm.info("lv").suspended());
    }

    @Test
    void aTableLoadedOnASuspendedDeviceIsLiveAfterResume() {
        f.dm.create("lv", "0 8 zero");
        f.dm.suspend("lv");
        f.dm.load("lv", "0 2048 testlinear ram0 0");
        assertEquals(new DeviceInfo("lv", null, new DevT(254, 0), true, true, true, 0, 0, 1), f.dm.info("lv"));
        assertEquals("0 8 zero \n", f.dm.status("lv", false));
        assertEquals("0 2048 testlinear \n", f.dm.status("lv", true));
        f.dm.resume("lv");
        assertEquals(new DeviceInfo("lv", null, new DevT(254, 0), false, true, false, 0, 0, 1), f.dm.info("lv"));
        assertEquals("", f.dm.status("lv", true));
        assertEquals(2048, f.dm.get("lv").disk().capacity());
    }

    @Test
    void aDaxDeviceKeepsItsTypeAcrossLoads() {
        // table_load's is_valid_type: DM_TYPE_DAX_BIO_BASED may not become DM_TYPE_BIO_BASED.
        MemDisk plain = new MemDisk("ram2", new DevT(1, 2), 2048, false, false);
        f.registry.add(plain.disk);
        f.dm.create("dax", "0 2048 testlinear ram0 0");
        DmException e = assertThrows(DmException.class, () -> f.dm.load("dax", "0 2048 testlinear ram2 0"));
        assertEquals("reload ioctl on dax failed: Invalid argument (can't change device type after initial table load: "
                + "dm-0's first table was DAX-capable, this one is not)", e.getMessage());
        assertFalse(f.dm.info("dax").inactiveTable());
        assertTrue(f.registry.holders(plain.disk.devt()).isEmpty());
        // dm_table_determine_type: a table without devices takes the device's type (remove --force loads "error").
        f.dm.load("dax", "0 2048 error");
        f.dm.load("dax", "0 2048 zero");
        f.dm.load("dax", "0 2048 testlinear ram1 0");
        // A bio-based device may take a DAX table and then a plain one again: its type stays bio-based.
        f.dm.create("bio", "0 2048 testlinear ram2 0");
        f.dm.load("bio", "0 2048 testlinear ram0 0");
        f.dm.resume("bio");
        f.dm.load("bio", "0 2048 testlinear ram2 0");
        f.dm.resume("bio");
        assertEquals("0 2048 testlinear 1:2 0\n", f.dm.table("bio"));
    }

    @Test
    void waitReturnsWhenTheEventNumberMoves() throws Exception {
        // dev_wait's dm_wait_event: sleeps while event_nr equals the number given.
        f.dm.create("lv", "0 8 zero");
        assertEquals(0, f.dm.waitEvent("lv", 5).eventNumber());
        Waiter waiter = new Waiter("lv", 0);
        f.dm.rename("lv", "lv2");
        DeviceInfo woken = waiter.result();
        assertEquals("lv2", woken.name());
        assertEquals(1, woken.eventNumber());
    }

    @Test
    void removeWakesThoseWaiting() throws Exception {
        // __hash_remove raises the live table's event before the device goes.
        f.dm.create("lv", "0 8 zero");
        Waiter waiter = new Waiter("lv", 0);
        f.dm.remove("lv");
        assertEquals(1, waiter.result().eventNumber());
    }

    @Test
    void aDeviceInUseIsRemovedWhenItsLastUserLetsGoIfDeferred() {
        // dev_remove: busy while open (dm_lock_for_deletion); with DM_DEFERRED_REMOVE marked instead, and
        // removed by dm_deferred_remove once the last opener closes it; @cancel_deferred_remove unmarks it.
        f.dm.create("lower", "0 2048 testlinear ram0 0");
        f.dm.create("upper1", "0 2048 testlinear lower 0");
        f.dm.create("upper2", "0 1024 testlinear lower 1024");
        assertThrows(DmException.class, () -> f.dm.remove("lower"));
        assertFalse(f.dm.info("lower").deferredRemove());
        f.dm.remove("lower", true);
        DeviceInfo marked = f.dm.info("lower");
        assertTrue(marked.deferredRemove());
        assertEquals(2, marked.openCount());
        assertEquals("", f.dm.message("lower", 0, java.util.List.of("@cancel_deferred_remove")));
        assertFalse(f.dm.info("lower").deferredRemove());
        f.dm.remove("upper1");
        f.dm.remove("lower", true);
        // The last user lets go by swapping in a table that does not use it.
        f.dm.load("upper2", "0 1024 zero");
        assertTrue(f.dm.info("lower").deferredRemove(), "an inactive table still holds it");
        f.dm.resume("upper2");
        assertThrows(DmException.class, () -> f.dm.info("lower"));
        assertEquals(java.util.Set.of(), f.registry.holders(f.ram0.disk.devt()));
        // Not in use: --deferred removes at once.
        f.dm.remove("upper2", true);
        assertTrue(f.dm.list().isEmpty());
    }

    @Test
    void removeAllTakesEveryDeviceNothingUses() {
        // dm_hash_remove_all: removes what is not open, again and again until nothing more goes.
        f.dm.create("a-lower", "0 2048 testlinear ram0 0");
        f.dm.create("b-upper", "0 2048 testlinear a-lower 0");
        f.dm.create("c-top", "0 2048 testlinear b-upper 0");
        f.dm.create("d-other", null);
        assertEquals(0, f.dm.removeAll(false));
        assertTrue(f.dm.list().isEmpty());
        assertTrue(f.registry.holders(f.ram0.disk.devt()).isEmpty());
    }

    @Test
    void aReadOnlyTableMakesTheDeviceReadOnlyWhileItIsLive() {
        // table_load with DM_READONLY_FLAG, do_resume's set_disk_ro, __dev_status's DM_READONLY_FLAG.
        MappedDevice md = f.dm.create("ro", null, "0 2048 testlinear ram0 0", true);
        assertTrue(f.dm.info("ro").readOnly());
        MemorySegment buf = Arena.ofAuto().allocate(512);
        Bio write = Bio.write(0, buf);
        md.disk().submit(write);
        assertEquals("Trying to write to read-only block-device dm-0", write.await().message());
        Bio read = Bio.read(0, buf);
        md.disk().submit(read);
        assertTrue(read.await().isOk());
        // A read-write table loaded behind it changes nothing until it is swapped in.
        f.dm.load("ro", "0 2048 testlinear ram0 0");
        assertTrue(f.dm.info("ro").readOnly());
        f.dm.resume("ro");
        assertFalse(f.dm.info("ro").readOnly());
        Bio again = Bio.write(0, buf);
        md.disk().submit(again);
        assertTrue(again.await().isOk());
        // Resuming without a new table leaves the mode as it is.
        f.dm.load("ro", "0 2048 testlinear ram0 0", true);
        f.dm.clear("ro");
        f.dm.suspend("ro");
        f.dm.resume("ro");
        assertFalse(f.dm.info("ro").readOnly());
        // Without a live table there is nothing to be read-only (__dev_status sets the flag only with one).
        f.dm.create("bare", null);
        f.dm.load("bare", "0 8 zero", true);
        assertFalse(f.dm.info("bare").readOnly());
    }

    /** A thread in dm.waitEvent, started and seen waiting before the constructor returns. */
    private final class Waiter {
        private final CompletableFuture<DeviceInfo> result = new CompletableFuture<>();
        private final Thread thread;

        Waiter(String name, int eventNr) {
            thread = new Thread(() -> {
                try {
                    result.complete(f.dm.waitEvent(name, eventNr));
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            });
            thread.start();
            while (thread.getState() != Thread.State.WAITING && !result.isDone()) Thread.onSpinWait();
            assertFalse(result.isDone(), "returned without an event");
        }

        DeviceInfo result() throws Exception {
            return result.get(30, TimeUnit.SECONDS);
        }
    }
}
