package org.dmstack.block;

import java.util.concurrent.locks.LockSupport;

/**
 * A millisecond clock that costs a field read, as Linux's jiffies do: a ticker thread stores the
 * time every millisecond while someone reads it, and stops after a second nobody has. I/O
 * accounting reads the clock twice per bio on every disk it passes; System.nanoTime there cost
 * more than the rest of the accounting together.
 *
 * <p>The value may trail the time by the ticker's lateness on a loaded machine; that is the
 * granularity of the statistics (Linux's, at HZ=250, is 4 ms).
 */
final class Jiffies {
    private static final long IDLE_MILLIS = 1000;

    private static volatile long now = System.nanoTime() / 1_000_000;
    /** The last tick a reader saw: written by readers at most once per tick. */
    private static volatile long seen;
    private static volatile boolean ticking;
    private static Thread ticker;

    private Jiffies() {}

    /** The time in milliseconds (any origin). */
    static long get() {
        if (!ticking) start();
        long n = now;
        if (seen != n) seen = n;
        return n;
    }

    private static synchronized void start() {
        if (ticking) return;
        now = System.nanoTime() / 1_000_000;
        ticking = true;
        if (ticker == null) {
            ticker = Thread.ofPlatform().daemon().name("dmstack-jiffies").start(Jiffies::tick);
        } else {
            LockSupport.unpark(ticker);
        }
    }

    private static void tick() {
        for (;;) {
            LockSupport.parkNanos(1_000_000);
            long n = System.nanoTime() / 1_000_000;
            now = n;
            if (n - seen > IDLE_MILLIS) {
                synchronized (Jiffies.class) {
                    ticking = false;
                }
                // A reader that starts the clock again refreshes it and unparks this thread.
                while (!ticking) LockSupport.park(Jiffies.class);
            }
        }
    }
}
