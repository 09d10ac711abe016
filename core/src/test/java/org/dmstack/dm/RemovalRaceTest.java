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
 * A bio that reaches a device just as its driver withdraws it, and is failed by the dying device,
 * is held and goes to the device that comes back (a driver bundle updated under I/O).
 */
class RemovalRaceTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void aBioFailedByADeviceBeingRemovedIsHeldForItsReturn() throws Exception {
        CountDownLatch entered = new CountDownLatch(1), proceed = new CountDownLatch(1);
        GenDisk dying = GenDisk.builder("ram9", new DevT(1, 9), 2048, bio -> {
            entered.countDown();
            try {
                proceed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            bio.endio(BlkStatus.ioerr("ram9: device removed"));
        }).build();
        f.registry.add(dying);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram9 0").disk();
        Bio w = Bio.write(8, Arena.ofShared().allocate(512).fill((byte) 7));
        Thread submitter = new Thread(() -> md.submit(w));
        submitter.start();
        entered.await();
        f.registry.remove(dying);
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
    void anIoErrorFromADeviceThatStaysIsTheBiosEnd() {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.ram0.failIo = true;
        Bio w = Bio.write(8, Arena.ofShared().allocate(512));
        md.submit(w);
        assertEquals(BlkStatus.Code.IOERR, w.await().code());
    }
}
