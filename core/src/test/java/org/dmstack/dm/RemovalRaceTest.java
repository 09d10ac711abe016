package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.MemDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A bio that reaches a device just as its driver withdraws it is handed back by the dying device,
 * held, and goes to the device that comes back (a driver bundle updated under I/O); the bio that
 * goes down is the one the target mapped, not a copy.
 */
class RemovalRaceTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void aBioHandedBackByADeviceBeingRemovedIsHeldForItsReturn() throws Exception {
        CountDownLatch entered = new CountDownLatch(1), proceed = new CountDownLatch(1);
        GenDisk[] self = new GenDisk[1];
        GenDisk dying = GenDisk.builder("ram9", new DevT(1, 9), 2048, bio -> {
            entered.countDown();
            try {
                proceed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            self[0].handBack(bio); // the driver saw that it is going away
        }).build();
        self[0] = dying;
        f.registry.add(dying);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram9 0").disk();
        Bio w = Bio.write(8, Arena.ofShared().allocate(512).fill((byte) 7));
        Thread submitter = new Thread(() -> md.submit(w));
        submitter.start();
        entered.await();
        f.registry.remove(dying);
        dying.del();
        proceed.countDown();
        submitter.join();
        Thread.sleep(50);
        assertFalse(w.isDone(), "the failed bio is held, not failed");
        MemDisk back = new MemDisk("ram9", new DevT(1, 9), 2048);
        f.registry.add(back.disk);
        assertEquals(BlkStatus.OK, w.await());
        assertEquals(7, back.read(8 * 512, 1)[0]);
    }

    @Test
    void aBioSentToAWithdrawnDiskStillBoundIsHeldUntilTheNextOneComes() {
        GenDisk ram9 = new MemDisk("ram9", new DevT(1, 9), 2048).disk;
        f.registry.add(ram9);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram9 0").disk();
        ram9.del(); // the driver withdrew the disk; the registry has not said so yet
        Bio w = Bio.write(8, Arena.ofShared().allocate(512).fill((byte) 3));
        md.submit(w);
        assertFalse(w.isDone(), "handed back and held, not failed");
        f.registry.remove(ram9);
        MemDisk back = new MemDisk("ram9", new DevT(1, 9), 2048);
        f.registry.add(back.disk);
        assertEquals(BlkStatus.OK, w.await());
        assertEquals(3, back.read(8 * 512, 1)[0]);
    }

    @Test
    void aBioSentStraightToAWithdrawnDiskFails() {
        GenDisk ram9 = new MemDisk("ram9", new DevT(1, 9), 2048).disk;
        ram9.del();
        Bio r = Bio.read(0, Arena.ofShared().allocate(512));
        ram9.submit(r);
        assertEquals(BlkStatus.ioerr("ram9: device removed"), r.await());
        assertEquals(0, ram9.stats().snapshot().readIos(), "nothing was done, nothing is counted");
    }

    @Test
    void anIoErrorFromADeviceThatStaysIsTheBiosEnd() {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.ram0.failIo = true;
        Bio w = Bio.write(8, Arena.ofShared().allocate(512));
        md.submit(w);
        assertEquals(BlkStatus.Code.IOERR, w.await().code());
    }
}
