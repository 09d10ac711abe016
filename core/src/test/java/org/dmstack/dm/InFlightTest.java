package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmstack.block.Bio;
import org.dmstack.block.BioRing;
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
    void anOpenBatchKeepsTheDeviceFromDrainingAfterItsBiosHaveEnded() {
        InFlight count = new InFlight();
        PerThread here = PerThread.get();
        count.plug(here);
        count.getPlugged(here);
        count.put(here);
        count.put(here);
        assertEquals(0, count.sum());
        assertTrue(count.plugged(here));
        assertFalse(count.drained(), "the batch may still send a bio that has not seen I/O blocked");
        count.unplug(here);
        assertFalse(count.plugged(here));
        assertTrue(count.drained());
        count.release();
    }

    @Test
    void aSlotGivenToANewDeviceCarriesNoBatchOfTheOldOne() throws Exception {
        InFlight old = new InFlight();
        runOn(() -> old.get(PerThread.get()));
        old.put(PerThread.get()); // this thread's share is -1, the ended one's +1: drained
        old.release();
        InFlight next = new InFlight();
        assertFalse(next.plugged(PerThread.get()), "a share left on the slot is no batch");
        assertTrue(next.drained());
        next.release();
    }

    @Test
    void aSlotReleasedInsideABatchIsNotGivenToANewDevice() {
        InFlight old = new InFlight();
        PerThread here = PerThread.get();
        old.plug(here);
        old.put(here);
        old.release(); // its batch is still open: a new device must not find the mark on its slot
        InFlight next = new InFlight();
        assertFalse(next.plugged(here));
        old.unplug(here);
        next.release();
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

    @Test
    void aSuspendThatBeginsDuringARingsBatchWaitsForTheBatchAndDefersItsLaterBios() throws Exception {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        CompletableFuture<Void>[] suspend = new CompletableFuture[1];
        boolean[] doneWhileBatchOpen = new boolean[1];
        // Sent between two bios to lv in one batch: lv's first bio has already ended (ram0 ends at
        // once), so only the batch itself keeps the suspend waiting.
        GenDisk gate = GenDisk.builder("gate0", new DevT(7, 1), 2048, bio -> {
            suspend[0] = CompletableFuture.runAsync(() -> f.dm.suspend("lv"));
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            doneWhileBatchOpen[0] = suspend[0].isDone();
            bio.endio(BlkStatus.OK);
        }).limits(QueueLimits.of(512, 4096)).build();
        BioRing ring = new BioRing(3);
        Bio first = Bio.write(0, Arena.ofAuto().allocate(512).fill((byte) 1));
        Bio last = Bio.write(1, Arena.ofAuto().allocate(512).fill((byte) 2));
        ring.queue(md, first);
        ring.queue(gate, Bio.write(0, Arena.ofAuto().allocate(512)));
        ring.queue(md, last);
        ring.submit();
        assertFalse(doneWhileBatchOpen[0], "the suspend waits until the batch has gone down");
        suspend[0].get(10, TimeUnit.SECONDS);
        assertEquals(BlkStatus.OK, first.await());
        assertFalse(last.isDone(), "sent after the suspend began: held until resume");
        assertEquals(1, f.ram0.read(0, 1)[0]);
        assertEquals(0, f.ram0.read(512, 1)[0]);
        f.dm.resume("lv");
        assertEquals(BlkStatus.OK, last.await());
        assertEquals(2, f.ram0.read(512, 1)[0]);
    }

    @Test
    void noBioOfARingReachesTheDeviceBelowWhileItsMappedDeviceIsSuspended() throws Exception {
        AtomicBoolean suspended = new AtomicBoolean();
        AtomicInteger whileSuspended = new AtomicInteger();
        AtomicInteger arrived = new AtomicInteger();
        GenDisk below = GenDisk.builder("below0", new DevT(7, 2), 2048, bio -> {
            if (suspended.get()) whileSuspended.incrementAndGet();
            arrived.incrementAndGet();
            bio.endio(BlkStatus.OK);
        }).limits(QueueLimits.of(512, 4096)).build();
        f.registry.add(below);
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear below0 0").disk();
        int total = 20_000;
        CompletableFuture<Integer> failed = CompletableFuture.supplyAsync(() -> {
            BioRing ring = new BioRing(16);
            int sent = 0, bad = 0;
            try {
                for (; sent < 16; sent++) ring.queue(md, Bio.read(sent, Arena.ofAuto().allocate(512)));
                ring.submit();
                for (int reaped = 0; reaped < total; reaped++) {
                    Bio done = ring.poll();
                    if (done == null) {
                        ring.submit();
                        done = ring.take();
                    }
                    if (!done.await().isOk()) bad++;
                    if (sent < total) {
                        ring.queue(md, done.reset(org.dmstack.block.BioOp.READ, sent++ % 2048, done.data()));
                    }
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return bad;
        });
        for (int i = 0; i < 200 && !failed.isDone(); i++) {
            f.dm.suspend("lv");
            suspended.set(true);
            Thread.yield();
            suspended.set(false);
            f.dm.resume("lv");
        }
        assertEquals(0, failed.get(30, TimeUnit.SECONDS));
        assertEquals(total, arrived.get());
        assertEquals(0, whileSuspended.get(), "a suspended device sends nothing down: its bios wait for resume");
    }

    private static void runOn(Runnable r) throws InterruptedException {
        Thread t = Thread.ofPlatform().start(r);
        t.join();
    }
}
