package org.dmstack.dax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** dax_srcu: a kill waits for the sections that began before it, and only for those. */
class DaxReadLockTest {
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    /** Runs a read-side section on another thread that says when it began and ends when released. */
    private CompletableFuture<Void> section(CountDownLatch began, CountDownLatch release) {
        return CompletableFuture.runAsync(() -> {
            DaxReadLock.Reader reader = DaxReadLock.reader();
            int s = reader.lock();
            try {
                began.countDown();
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                reader.unlock(s);
            }
        }, threads);
    }

    @Test
    void synchronizeWaitsForASectionThatBeganBeforeIt() throws Exception {
        CountDownLatch began = new CountDownLatch(1), release = new CountDownLatch(1);
        CompletableFuture<Void> reader = section(began, release);
        assertTrue(began.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> sync = CompletableFuture.runAsync(DaxReadLock::synchronize, threads);
        Thread.sleep(50);
        assertFalse(sync.isDone(), "the section is still open");
        release.countDown();
        reader.get(10, TimeUnit.SECONDS);
        sync.get(10, TimeUnit.SECONDS);
    }

    @Test
    void sectionsThatBeginAfterTheFlipDoNotHoldItUp() throws Exception {
        // Two threads whose sections overlap, so that some section is always open: a count of
        // sections in flight would never reach zero, and a kill waiting for it would starve.
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch running = new CountDownLatch(2);
        Runnable overlapping = () -> {
            DaxReadLock.Reader reader = DaxReadLock.reader();
            int open = reader.lock();
            running.countDown();
            while (!stop.get()) {
                int next = reader.lock();
                reader.unlock(open);
                open = next;
                Thread.onSpinWait();
            }
            reader.unlock(open);
        };
        CompletableFuture<Void> a = CompletableFuture.runAsync(overlapping, threads), b = CompletableFuture.runAsync(overlapping, threads);
        assertTrue(running.await(10, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) CompletableFuture.runAsync(DaxReadLock::synchronize, threads).get(10, TimeUnit.SECONDS);
        stop.set(true);
        a.get(10, TimeUnit.SECONDS);
        b.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aSectionWaitingOutsideDoesNotHoldUpAKillAndHoldsThemAgainOnceBack() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1), comeBack = new CountDownLatch(1), backInside = new CountDownLatch(1),
                finish = new CountDownLatch(1);
        CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
            DaxReadLock.Reader r = DaxReadLock.reader();
            int s = r.lock();
            try {
                String got = DaxReadLock.outside(() -> {
                    waiting.countDown();
                    await(comeBack);
                    return "back";
                });
                backInside.countDown();
                await(finish);
                return got;
            } finally {
                r.unlock(s);
            }
        }, threads);
        assertTrue(waiting.await(10, TimeUnit.SECONDS));
        CompletableFuture.runAsync(DaxReadLock::synchronize, threads).get(10, TimeUnit.SECONDS);
        comeBack.countDown();
        assertTrue(backInside.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> sync = CompletableFuture.runAsync(DaxReadLock::synchronize, threads);
        Thread.sleep(50);
        assertFalse(sync.isDone(), "back inside its section, the call holds kills up again");
        finish.countDown();
        assertEquals("back", reader.get(10, TimeUnit.SECONDS));
        sync.get(10, TimeUnit.SECONDS);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aKillFromInsideASectionDoesNotWaitForItself() {
        DaxDevice dax = new DaxDevice("pmem9", (pgoff, nrPages, map) -> {}, () -> 1, false);
        DaxReadLock.Reader reader = DaxReadLock.reader();
        int s = reader.lock();
        try {
            dax.kill();
        } finally {
            reader.unlock(s);
        }
        assertFalse(dax.alive());
    }

    /** A thread's reader is found by its id first: two live threads whose ids share a place still read on their own. */
    @Test
    void threadsWhoseIdsShareAPlaceEachHaveTheirOwnReader() throws Exception {
        CountDownLatch firstIn = new CountDownLatch(1), secondIn = new CountDownLatch(1), release = new CountDownLatch(1);
        DaxReadLock.Reader[] readers = new DaxReadLock.Reader[2];
        Thread first = new Thread(() -> {
            readers[0] = DaxReadLock.reader();
            firstIn.countDown();
            await(release);
        });
        Runnable section = () -> {
            readers[1] = DaxReadLock.reader();
            int s = readers[1].lock();
            secondIn.countDown();
            await(release);
            readers[1].unlock(s);
        };
        Thread second = new Thread(section);
        while ((second.threadId() - first.threadId()) % DaxReadLock.PLACES != 0) second = new Thread(section);
        first.start();
        assertTrue(firstIn.await(10, TimeUnit.SECONDS));
        second.start();
        assertTrue(secondIn.await(10, TimeUnit.SECONDS));
        assertNotSame(readers[0], readers[1]);

        CompletableFuture<Void> sync = CompletableFuture.runAsync(DaxReadLock::synchronize, threads);
        Thread.sleep(50);
        assertFalse(sync.isDone(), "the second thread's section is open");
        release.countDown();
        sync.get(10, TimeUnit.SECONDS);
        first.join();
        second.join();
    }
}
