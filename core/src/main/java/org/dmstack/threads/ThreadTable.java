package org.dmstack.threads;

import java.util.function.Supplier;

/**
 * A value of each thread's own, found by the thread's id before its {@link ThreadLocal}: an array
 * element and a comparison instead of the ThreadLocal's map, table and weak entry, on paths that
 * look it up once per bio or DAX call (Linux keeps such state per CPU: this_cpu_ptr).
 *
 * <p>Two live threads whose ids share a place take turns in it; the ThreadLocal finds the other.
 * A place is taken until its thread ends, so two live threads never fight over it, and a plain
 * store suffices: a thread that reads another's value there sees a final owner that is not itself.
 * The owner of the values calls {@link #forget} for a thread that has ended, so the table keeps
 * nothing of it.
 *
 * @param <T> the values, each made on and for the thread that first asked
 */
public final class ThreadTable<T extends ThreadTable.Owned> {
    /** A value the table holds: made on, and for, one thread. */
    public abstract static class Owned {
        private final Thread owner = Thread.currentThread();

        /** The thread this value was made for. */
        public final Thread owner() {
            return owner;
        }
    }

    private final Owned[] byId;
    private final int mask;
    private final ThreadLocal<T> local;

    /**
     * @param places how many threads are found without the ThreadLocal (a power of two)
     * @param make makes the calling thread's value the first time it asks
     */
    public ThreadTable(int places, Supplier<T> make) {
        if (Integer.bitCount(places) != 1) throw new IllegalArgumentException("places must be a power of two: " + places);
        this.byId = new Owned[places];
        this.mask = places - 1;
        this.local = ThreadLocal.withInitial(make);
    }

    /** The calling thread's value. */
    @SuppressWarnings("unchecked")
    public T get() {
        Thread me = Thread.currentThread();
        Owned t = byId[(int) me.threadId() & mask];
        return t != null && t.owner == me ? (T) t : lookUp(me);
    }

    private T lookUp(Thread me) {
        T t = local.get();
        int i = (int) me.threadId() & mask;
        Owned there = byId[i];
        if (there == null || !there.owner.isAlive()) byId[i] = t;
        return t;
    }

    /** Lets go of {@code gone}'s place, its thread having ended. */
    public void forget(T gone) {
        int i = (int) gone.owner().threadId() & mask;
        if (byId[i] == gone) byId[i] = null;
    }
}
