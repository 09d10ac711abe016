package org.dmstack.dm.delay;

import java.util.ArrayList;
import java.util.List;

/** A timer for tests: time stands still until {@link #advance} moves it and runs what fell due, on the test's thread. */
final class ManualTimer implements DelayTimer {
    private long now = 1_000_000;
    private final List<Task> tasks = new ArrayList<>();

    private static final class Task {
        final Runnable run;
        final long at;
        boolean cancelled;

        Task(Runnable run, long at) {
            this.run = run;
            this.at = at;
        }
    }

    @Override
    public synchronized long nowMillis() {
        return now;
    }

    @Override
    public synchronized Cancellable schedule(Runnable run, long atMillis) {
        Task t = new Task(run, atMillis);
        tasks.add(t);
        return () -> t.cancelled = true;
    }

    /** How many tasks wait to run. */
    synchronized long pending() {
        return tasks.stream().filter(t -> !t.cancelled).count();
    }

    /** Moves the clock on by {@code millis} and runs every task now due, earliest first. */
    void advance(long millis) {
        long to;
        synchronized (this) {
            to = now + millis;
        }
        for (;;) {
            Task next = null;
            synchronized (this) {
                tasks.removeIf(t -> t.cancelled);
                for (Task t : tasks) if (t.at <= to && (next == null || t.at < next.at)) next = t;
                if (next == null) {
                    now = to;
                    return;
                }
                tasks.remove(next);
                now = Math.max(now, next.at);
            }
            next.run.run();
        }
    }
}
