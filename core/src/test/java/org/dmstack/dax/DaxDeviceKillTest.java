package org.dmstack.dax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/** kill_dax waits for the calls in flight; later calls fail with ENXIO. */
class DaxDeviceKillTest {
    /** A driver over {@code memory} (8 pages) whose writes say they have begun and then wait to be released. */
    private static DaxOperations slowWrites(MemorySegment memory, CountDownLatch entered, CountDownLatch release) {
        return new DaxOperations() {
            @Override
            public void directAccess(long pgoff, long nrPages, DaxMapping map) {
                map.set(memory, pgoff * 4096, pgoff, 8 - pgoff);
            }

            @Override
            public long copyFromIter(long pgoff, MemorySegment addr, long offset, long bytes, IovIter iter) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return iter.copyFromIter(addr, offset, bytes);
            }
        };
    }

    @Test
    void killWaitsForCallsInFlightAndLaterCallsFailCleanly() throws Exception {
        MemorySegment memory = Arena.ofAuto().allocate(8 * 4096, 4096);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DaxDevice dax = new DaxDevice("pmem0", slowWrites(memory, entered, release), () -> 8, true);
        DaxMapping addr = dax.directAccess(0, 1);
        ExecutorService threads = Executors.newCachedThreadPool();
        CompletableFuture<Long> write = CompletableFuture.supplyAsync(() -> dax.copyFromIter(addr, 0, 4096, IovIter.iovec(new byte[4096])), threads);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> kill = CompletableFuture.runAsync(dax::kill, threads);
        while (dax.alive()) Thread.onSpinWait();
        Thread.sleep(50);
        assertFalse(kill.isDone(), "kill waits while a call is in flight");
        assertFalse(dax.alive());
        DaxException late = assertThrows(DaxException.class, () -> dax.directAccess(0, 1));
        assertEquals("pmem0: DAX device is dead", late.getMessage());
        assertEquals(DaxException.Errno.ENXIO, late.errno());
        release.countDown();
        assertEquals(4096L, write.get(10, TimeUnit.SECONDS), "the call in flight completes normally");
        kill.get(10, TimeUnit.SECONDS);
        assertThrows(DaxException.class, () -> dax.copyToIter(addr, 0, 1, IovIter.iovec(new byte[1])));
        threads.shutdown();
    }

    @Test
    void killOfTheDeviceBelowWaitsForAnFsDaxCopyThatCrossedTheStackToIt() throws Exception {
        MemorySegment memory = Arena.ofAuto().allocate(8 * 4096, 4096);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DaxDevice below = new DaxDevice("pmem0", slowWrites(memory, entered, release), () -> 8, false);
        // A layer that only maps, as device-mapper does: the copy is the device below's.
        DaxDevice above = new DaxDevice("dm-0", (pgoff, nrPages, map) -> below.directAccess(pgoff + 1, nrPages, map), () -> 7, false);
        ExecutorService threads = Executors.newCachedThreadPool();
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x5a);
        CompletableFuture<Long> write = CompletableFuture.supplyAsync(() -> FsDax.write(above, 0, IovIter.iovec(data)), threads);
        assertTrue(entered.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> kill = CompletableFuture.runAsync(below::kill, threads);
        while (below.alive()) Thread.onSpinWait();
        Thread.sleep(50);
        assertFalse(kill.isDone(), "the copy holds the device below, entered by its direct_access");
        release.countDown();
        assertEquals(4096L, write.get(10, TimeUnit.SECONDS));
        kill.get(10, TimeUnit.SECONDS);
        assertEquals((byte) 0x5a, memory.get(ValueLayout.JAVA_BYTE, 4096), "page 0 above is page 1 below");
        DaxException late = assertThrows(DaxException.class, () -> FsDax.read(above, 0, IovIter.iovec(new byte[1])));
        assertEquals("pmem0: DAX device is dead", late.getMessage());
        threads.shutdown();
    }

    /**
     * A thread's fs-dax mapping keeps its owner from call to call (storing it each call cost a GC
     * barrier), but not past the owner's kill: a removed device must not stay reachable from every
     * thread that once read it.
     */
    @Test
    void aThreadsMappingForgetsAKilledOwner() {
        MemorySegment first = Arena.ofAuto().allocate(8 * 4096, 4096);
        MemorySegment second = Arena.ofAuto().allocate(8 * 4096, 4096);
        DaxDevice one = new DaxDevice("pmem0", slowWrites(first, new CountDownLatch(0), new CountDownLatch(0)), () -> 8, false);
        DaxDevice two = new DaxDevice("pmem1", slowWrites(second, new CountDownLatch(0), new CountDownLatch(0)), () -> 8, false);
        DaxMapping mine = DaxReadLock.reader().mapping;
        byte[] data = {1, 2, 3};
        assertEquals(3, FsDax.write(one, 4096, IovIter.iovec(data)));
        assertTrue(mine.owner == one, "the owner stays after the call");
        assertEquals(3, FsDax.write(two, 0, IovIter.iovec(data)));
        assertTrue(mine.owner == two, "and follows the device the thread used last");
        one.kill();
        assertTrue(mine.owner == two, "a kill of another device leaves it");
        two.kill();
        assertEquals(null, mine.owner, "the killed owner is dropped");
        assertEquals(2, second.get(ValueLayout.JAVA_BYTE, 1));
        assertEquals(3, first.get(ValueLayout.JAVA_BYTE, 4096 + 2));
    }
}
