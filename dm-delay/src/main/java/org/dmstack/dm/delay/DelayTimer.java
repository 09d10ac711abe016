package org.dmstack.dm.delay;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What dm-delay needs of time: the kernel's jiffies (a millisecond clock) and a timer that calls
 * back on another thread once a moment has come (timer_list plus the kdelayd work queue). Tests give
 * their own, so they move time instead of sleeping.
 */
public interface DelayTimer {
    /** A monotonic clock in milliseconds. */
    long nowMillis();

    /**
     * Runs {@code task} on a thread of the timer's own (never the caller's) once {@link #nowMillis()}
     * has reached {@code atMillis}; the returned handle cancels it if it has not run yet.
     */
    Cancellable schedule(Runnable task, long atMillis);

    /** A scheduled task that can still be called off. */
    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }

    /** The real clock, with one daemon thread ("kdelayd") that runs the due tasks. */
    static SystemTimer system() {
        return new SystemTimer();
    }

    /** The real timer; {@link #close()} stops its thread. */
    final class SystemTimer implements DelayTimer, AutoCloseable {
        private final ScheduledExecutorService kdelayd = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kdelayd");
            t.setDaemon(true);
            return t;
        });

        private SystemTimer() {}

        @Override
        public long nowMillis() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
        }

        @Override
        public Cancellable schedule(Runnable task, long atMillis) {
            ScheduledFuture<?> f = kdelayd.schedule(task, Math.max(0, atMillis - nowMillis()), TimeUnit.MILLISECONDS);
            return () -> f.cancel(false);
        }

        @Override
        public void close() {
            kdelayd.shutdown();
        }
    }
}
