package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** When a device or a target type goes away under a table, I/O waits for it, then rebinds or fails. */
class HeldIoTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void ioWaitsForADepartedDeviceAndGoesToTheOneThatReturns() throws Exception {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.registry.remove(f.ram0.disk);
        Bio w = Bio.write(8, Arena.ofAuto().allocate(512).fill((byte) 1));
        md.submit(w);
        Thread.sleep(50);
        assertFalse(w.isDone());
        MemDisk again = new MemDisk("ram0", new DevT(1, 0), 2048);
        f.registry.add(again.disk);
        assertEquals(BlkStatus.OK, w.await());
        assertEquals(1, again.read(8 * 512, 1)[0], "the write went to the device that came back");
    }

    @Test
    void aDaxCallWaitingForADepartedDeviceDoesNotHoldUpTheKillOfAnotherAndGoesToTheOneThatReturns() throws Exception {
        DaxDevice lv = f.dm.create("lv", "0 2048 testlinear ram0 0").disk().dax();
        f.registry.remove(f.ram0.disk);
        byte[] back = new byte[512];
        CompletableFuture<Long> read = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                read.complete(FsDax.read(lv, 8 * 512, IovIter.iovec(back)));
            } catch (RuntimeException e) {
                read.completeExceptionally(e);
            }
        });
        reader.start();
        while (reader.getState() != Thread.State.TIMED_WAITING) Thread.onSpinWait();
        // Another driver's device goes away meanwhile (as in one update of a driver with two):
        // its kill waits for the DAX calls in flight, but not for one waiting for ram0 to return.
        CompletableFuture.runAsync(f.ram1.disk.dax()::kill).get(10, TimeUnit.SECONDS);
        assertFalse(read.isDone());
        MemDisk again = new MemDisk("ram0", new DevT(1, 0), 2048);
        again.memory.set(ValueLayout.JAVA_BYTE, 8 * 512, (byte) 7);
        f.registry.add(again.disk);
        assertEquals(512L, read.get(10, TimeUnit.SECONDS));
        assertEquals(7, back[0], "the read went to the device that came back");
    }

    @Test
    void ioFailsWhenTheDeviceStaysAwayTooLongAndWorksWhenItReturns() {
        f.dm.setHoldTimeout(100);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.registry.remove(f.ram0.disk);
        Bio w = Bio.write(0, Arena.ofAuto().allocate(512));
        md.submit(w);
        assertEquals("IOERR: device 1:0 (ram0) is gone and did not come back within 100 ms", w.await().toString());
        f.registry.add(f.ram0.disk);
        Bio again = Bio.write(0, Arena.ofAuto().allocate(512));
        md.submit(again);
        assertEquals(BlkStatus.OK, again.await());
    }

    @Test
    void aDifferentDeviceWithTheSameNumberIsNotBound() throws Exception {
        f.dm.setHoldTimeout(200);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.registry.remove(f.ram0.disk);
        f.registry.add(new MemDisk("impostor", new DevT(1, 0), 2048).disk);
        Bio w = Bio.write(0, Arena.ofAuto().allocate(512));
        md.submit(w);
        assertEquals(BlkStatus.Code.IOERR, w.await().code());
    }

    @Test
    void ioHeldForADepartedDeviceIsRequeuedWhenItsTargetTypeGoesTooAndDoneWhenBothReturn() throws Exception {
        // A core update takes the driver's device and the target type away, in either order.
        TestLinear.Type type = new TestLinear.Type();
        f.dm.targetTypes().unregister(f.dm.targetTypes().get("testlinear"));
        f.dm.targetTypes().register(type);
        BlockDevice md = f.dm.create("lv", "0 1024 testlinear ram0 512").disk();
        f.registry.remove(f.ram0.disk);
        Bio w = Bio.write(8, Arena.ofAuto().allocate(512).fill((byte) 3));
        md.submit(w);
        Thread unregister = Thread.ofVirtual().start(() -> f.dm.targetTypes().unregister(type));
        unregister.join(10_000);
        assertFalse(unregister.isAlive(), "the type's removal does not wait for I/O held for a device that is away as well");
        assertFalse(w.isDone(), "the write is not failed: it waits for the table");
        MemDisk again = new MemDisk("ram0", new DevT(1, 0), 2048);
        f.registry.add(again.disk);
        f.dm.targetTypes().register(new TestLinear.Type());
        assertEquals(BlkStatus.OK, w.await());
        assertEquals(3, again.read((512 + 8) * 512, 1)[0], "mapped again by the table that came back, to the device that came back");
    }

    @Test
    void aDepartedTargetTypeHoldsIoUntilItReturns() throws Exception {
        TestLinear.Type type = new TestLinear.Type();
        f.dm.targetTypes().unregister(f.dm.targetTypes().get("testlinear"));
        f.dm.targetTypes().register(type);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.dm.targetTypes().unregister(type);
        Bio w = Bio.write(16, Arena.ofAuto().allocate(512).fill((byte) 2));
        md.submit(w);
        Thread.sleep(50);
        assertFalse(w.isDone());
        f.dm.targetTypes().register(new TestLinear.Type());
        assertEquals(BlkStatus.OK, w.await());
        assertEquals(2, f.ram0.read(16 * 512, 1)[0]);
        assertEquals("0 2048 testlinear 1:0 0\n", f.dm.table("lv"));
    }

    @Test
    void aTargetTypeThatStaysAwayMakesIoFailThenWorksAgain() {
        f.dm.setHoldTimeout(100);
        TestLinear.Type type = (TestLinear.Type) f.dm.targetTypes().get("testlinear");
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.dm.targetTypes().unregister(type);
        Bio w = Bio.write(0, Arena.ofAuto().allocate(512));
        md.submit(w);
        assertEquals("IOERR: dm-0 (lv): target type testlinear did not come back within 100 ms", w.await().toString());
        Bio fast = Bio.write(0, Arena.ofAuto().allocate(512));
        md.submit(fast);
        assertEquals("IOERR: dm-0 (lv): target type testlinear is gone", fast.await().toString());
        f.dm.targetTypes().register(type);
        Bio ok = Bio.write(0, Arena.ofAuto().allocate(512));
        md.submit(ok);
        assertEquals(BlkStatus.OK, ok.await());
    }
}
