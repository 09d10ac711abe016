package org.dmstack.threads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ThreadTableTest {
    static final class Value extends ThreadTable.Owned {}

    private final AtomicInteger made = new AtomicInteger();
    private final ThreadTable<Value> table = new ThreadTable<>(4, () -> {
        made.incrementAndGet();
        return new Value();
    });

    @Test
    void eachThreadHasItsOwnMadeOnce() throws Exception {
        Value mine = table.get();
        assertSame(Thread.currentThread(), mine.owner());
        assertSame(mine, table.get());
        AtomicReference<Value> other = new AtomicReference<>();
        Thread t = new Thread(() -> other.set(table.get()));
        t.start();
        t.join();
        assertNotSame(mine, other.get());
        assertSame(t, other.get().owner());
        assertSame(mine, table.get());
        assertEquals(2, made.get());
    }

    /** Two live threads in one place take turns: each still finds its own, through the ThreadLocal. */
    @Test
    void threadsSharingAPlaceEachFindTheirOwn() throws Exception {
        CountDownLatch bothIn = new CountDownLatch(2), done = new CountDownLatch(1);
        AtomicReference<String> wrong = new AtomicReference<>();
        Runnable body = () -> {
            Value v = table.get();
            bothIn.countDown();
            try {
                bothIn.await();
                for (int i = 0; i < 10_000; i++) if (table.get() != v) wrong.set("a thread got another's value");
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Thread first = new Thread(body);
        Thread second = new Thread(body);
        while ((second.threadId() - first.threadId()) % 4 != 0) second = new Thread(body);
        first.start();
        second.start();
        bothIn.await();
        done.countDown();
        first.join();
        second.join();
        assertEquals(null, wrong.get());
        assertEquals(2, made.get());
    }

    /** A thread that forgets itself (or another's place) only sends its next lookup through the ThreadLocal. */
    @Test
    void forgettingCostsALookupNotTheValue() {
        Value mine = table.get();
        table.forget(mine);
        assertSame(mine, table.get());
        assertEquals(1, made.get());
        assertThrows(IllegalArgumentException.class, () -> new ThreadTable<Value>(3, Value::new));
    }
}
