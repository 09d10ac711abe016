package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bios in flight counted per thread: the sum is exact, whichever threads start and end them. */
class InFlightTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void biosStartedOnOneThreadAndEndedOnAnotherSumToWhatIsInFlight() throws Exception {
        InFlight count = new InFlight();
        for (int i = 0; i < 3; i++) count.get(PerThread.get());
        assertEquals(3, count.sum());
        runOn(() -> {
            count.put(PerThread.get());
            count.put(PerThread.get());
        });
        assertEquals(1, count.sum(), "one thread's share is 3, the other's -2");
        count.put(PerThread.get());
        assertEquals(0, count.sum());
        count.release();
    }

    @Test
    void aThreadThatEndedLeavesItsShareInTheSum() throws Exception {
        InFlight count = new InFlight();
        runOn(() -> {
            count.get(PerThread.get());
            count.get(PerThread.get());
        });
        // A new thread folds the ended one's share into the base.
        runOn(() -> PerThread.get());
        assertEquals(2, count.sum());
        count.put(PerThread.get());
        count.put(PerThread.get());
        assertEquals(0, count.sum());
        count.release();
    }

    @Test
    void aNewDeviceNeverInheritsBiosCountedOnAReleasedOne() {
        InFlight old = new InFlight();
        old.get(PerThread.get());
        old.release(); // not drained: its slot is not given to another
        for (int i = 0; i < 4; i++) {
            InFlight next = new InFlight();
            assertEquals(0, next.sum());
        }
        old.put(PerThread.get());
    }

    @Test
    void suspendWaitsForABioInFlightBelowThatEndsOnAnotherThread() throws Exception {
        LinkedBlockingQueue<Bio> taken = new LinkedBlockingQueue<>();
        GenDisk slow = GenDisk.builder("slow0", new DevT(7, 0), 2048, taken::add).limits(QueueLimits.of(512, 4096)).build();
        f.registry.add(slow);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear slow0 0").disk();
        Bio w = Bio.write(8, Arena.ofAuto().allocate(512).fill((byte) 3));
        md.submit(w);
        Bio below = taken.poll(10, TimeUnit.SECONDS);
        CompletableFuture<Void> suspend = CompletableFuture.runAsync(() -> f.dm.suspend("lv"));
        Thread.sleep(50);
        assertFalse(suspend.isDone(), "suspend waits for the bio in flight");
        runOn(() -> below.endio(BlkStatus.OK));
        suspend.get(10, TimeUnit.SECONDS);
        assertEquals(BlkStatus.OK, w.await());
        assertTrue(f.dm.info("lv").suspended());
        f.dm.resume("lv");
    }

    private static void runOn(Runnable r) throws InterruptedException {
        Thread t = Thread.ofPlatform().start(r);
        t.join();
    }
}
