package org.dmstack.dm.delay;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.dmstack.testkit.TargetConformance;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * delay passes the conformance suite with every bio really held: on a clock that jumps an hour
 * each time it is read, every held bio is due by the time the timer's thread looks, so the suite
 * runs through the delayed path (another thread sends each bio on) without waiting. Every check
 * applies: delay loses, drops and corrupts nothing. The DAX check finds no DAX: 6.1's delay has no
 * direct_access.
 *
 * <p>The tables give every class the same device and offset. With a separate write device (six or
 * nine arguments naming other devices) the checks that read back what was written, and the one
 * that wants a flush on every device, do not apply: reads then come from another device than
 * writes go to, and flushes reach only the flush device, which is what Linux's delay does too
 * (DelayTargetTypeTest checks it).
 */
class DelayConformanceTest {
    private static final ExecutorService TIMER_THREAD = Executors.newSingleThreadExecutor();

    @AfterAll
    static void stop() {
        TIMER_THREAD.shutdownNow();
    }

    /** Time runs an hour per reading; a scheduled task runs at once on the timer's thread. */
    private static DelayTimer jumpingClock() {
        AtomicLong now = new AtomicLong();
        return new DelayTimer() {
            @Override
            public long nowMillis() {
                return now.addAndGet(3_600_000);
            }

            @Override
            public Cancellable schedule(Runnable task, long atMillis) {
                TIMER_THREAD.execute(task);
                return () -> {};
            }
        };
    }

    @TestFactory
    Stream<DynamicTest> everyClassDelayed() {
        return TargetConformance.of(new DelayTargetType(jumpingClock()), "0 1024 delay ram0 2048 10 ram0 2048 20 ram0 2048 30\n1024 3072 delay ram1 1024 5 ram1 1024 0")
                .badTables("0 8 delay ram0 0 1 ram1 0", "0 8 delay ram0 0 x", "0 8 delay ram0 0 1 ram1 0 1 ram2 0")
                .tests();
    }

    @TestFactory
    Stream<DynamicTest> onTheRealClock() {
        return TargetConformance.of(new DelayTargetType(), "0 2048 delay ram0 0 1").tests();
    }
}
