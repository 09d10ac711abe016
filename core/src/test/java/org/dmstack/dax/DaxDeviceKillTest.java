package org.dmstack.dax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/** kill_dax waits for the calls in flight; later calls fail with ENXIO. */
class DaxDeviceKillTest {
    @Test
    void killWaitsForCallsInFlightAndLaterCallsFailCleanly() throws Exception {
        MemorySegment memory = Arena.ofAuto().allocate(8 * 4096, 4096);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DaxOperations slow = new DaxOperations() {
            @Override
            public DaxMapping directAccess(long pgoff, long nrPages) {
                return new DaxMapping(memory.asSlice(pgoff * 4096), pgoff, 8 - pgoff);
            }

            @Override
            public long copyFromIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return iter.copyFromIter(addr, bytes);
            }

            @Override
            public long copyToIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
                return iter.copyToIterMcsafe(addr, bytes);
            }

            @Override
            public void flush(long pgoff, MemorySegment addr, long size) {}
        };
        DaxDevice dax = new DaxDevice("pmem0", slow, () -> 8, true);
        MemorySegment addr = dax.directAccess(0, 1).kaddr();
        ExecutorService threads = Executors.newCachedThreadPool();
        CompletableFuture<Long> write = CompletableFuture.supplyAsync(() -> dax.copyFromIter(0, addr, 4096, IovIter.iovec(new byte[4096])), threads);
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
        assertThrows(DaxException.class, () -> dax.copyToIter(0, addr, 1, IovIter.iovec(new byte[1])));
        threads.shutdown();
    }
}
