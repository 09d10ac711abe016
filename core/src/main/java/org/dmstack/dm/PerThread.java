package org.dmstack.dm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.threads.ThreadTable;

/**
 * What the bio path keeps per thread, as Linux keeps it per CPU: this thread's share of every
 * mapped device's count of bios in flight ({@link InFlight}, Linux's percpu_ref). A bio finds it
 * with one lookup by thread id ({@link ThreadTable}) and carries it to its end, so the path pays
 * that lookup once and touches no memory that another thread writes.
 *
 * <p>Counts are indexed by a device's slot. Only the owning thread writes its counts (opaque
 * stores); a bio that ends on another thread counts down there, so one thread's share may be
 * negative and only the sum over all threads means anything. Threads that have ended are folded
 * into a base when a new thread arrives, so they leave nothing behind.
 */
final class PerThread extends ThreadTable.Owned {
    /** An element of a thread's counts or marks. */
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle COUNTS;
    private static final VarHandle MARKS;

    static {
        try {
            COUNTS = MethodHandles.lookup().findVarHandle(PerThread.class, "counts", long[].class);
            MARKS = MethodHandles.lookup().findVarHandle(PerThread.class, "marks", long[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final ThreadTable<PerThread> THREADS = new ThreadTable<>(1024, PerThread::register);
    private static final Object REGISTRY = new Object();
    private static PerThread[] all = new PerThread[0]; // guarded by REGISTRY
    /** What the threads that have ended had counted, by slot. */
    private static long[] base = new long[0]; // guarded by REGISTRY
    private static int slots; // guarded by REGISTRY
    private static final List<Integer> freeSlots = new ArrayList<>(); // guarded by REGISTRY

    @SuppressWarnings("unused") // through COUNTS: replaced by a longer copy when a new slot is used
    private volatile long[] counts = new long[8];
    /**
     * By slot, whether this thread is inside a batch of bios to that device (InFlight's plug
     * marks): set and cleared by this thread alone, and always clear outside a batch, so a slot
     * given to a new device finds none left, unlike counts, whose shares need only sum to 0.
     */
    @SuppressWarnings("unused") // through MARKS
    private volatile long[] marks = new long[8];

    private PerThread() {}

    /** The calling thread's. */
    static PerThread get() {
        return THREADS.get();
    }

    /** {@code owner}'s if that is the calling thread (no lookup), else the calling thread's. */
    static PerThread here(PerThread owner) {
        return owner.owner() == Thread.currentThread() ? owner : get();
    }

    /** Adds {@code delta} to this thread's count of {@code slot}; the calling thread must be the owner. */
    void add(int slot, long delta) {
        long[] c = (long[]) COUNTS.getOpaque(this);
        if (slot >= c.length) c = grow(COUNTS, slot);
        SLOT.setOpaque(c, slot, c[slot] + delta);
    }

    /** Whether this thread's mark on {@code slot} is set (see {@link #marks}); the calling thread must be the owner. */
    boolean marked(int slot) {
        long[] m = (long[]) MARKS.getOpaque(this);
        return slot < m.length && m[slot] != 0;
    }

    /**
     * Sets or clears this thread's mark on {@code slot} with a release store: whoever sees it with
     * {@link #anyMarked} sees every count this thread stored before. The calling thread must be the owner.
     */
    void mark(int slot, boolean set) {
        long[] m = (long[]) MARKS.getOpaque(this);
        if (slot >= m.length) m = grow(MARKS, slot);
        SLOT.setRelease(m, slot, set ? 1L : 0L);
    }

    /** Replaces this thread's array in {@code field} (counts or marks) by a copy long enough for {@code slot}. */
    private long[] grow(VarHandle field, int slot) {
        long[] old = (long[]) field.getOpaque(this);
        long[] c = java.util.Arrays.copyOf(old, Math.max(slot + 1, old.length * 2));
        // Only this thread writes its own arrays, so nothing is lost between the copy and the swap.
        field.setRelease(this, c);
        return c;
    }

    /** The sum of every thread's count of {@code slot}, each read on its own. */
    static long sum(int slot) {
        synchronized (REGISTRY) {
            long total = slot < base.length ? base[slot] : 0;
            for (PerThread t : all) total += t.count(slot);
            return total;
        }
    }

    /** Whether any thread's mark on {@code slot} is set, each read with acquire (see {@link #mark}). */
    static boolean anyMarked(int slot) {
        synchronized (REGISTRY) {
            for (PerThread t : all) {
                long[] m = (long[]) MARKS.getAcquire(t);
                if (slot < m.length && (long) SLOT.getAcquire(m, slot) != 0) return true;
            }
            return false;
        }
    }

    private long count(int slot) {
        long[] c = (long[]) COUNTS.getAcquire(this);
        return slot < c.length ? (long) SLOT.getOpaque(c, slot) : 0;
    }

    /** A slot for a new device: one given back, or a new one. */
    static int allocateSlot() {
        synchronized (REGISTRY) {
            return freeSlots.isEmpty() ? slots++ : freeSlots.removeLast();
        }
    }

    /**
     * Gives a device's slot back for reuse, if nothing is counted on it (a removed device has
     * drained) and no thread's mark is on it; a slot with bios still counted, or a batch still
     * open (one that met the device after its removal began), is never reused.
     */
    static void releaseSlot(int slot) {
        synchronized (REGISTRY) {
            if (sum(slot) == 0 && !anyMarked(slot)) freeSlots.add(slot);
        }
    }

    private static PerThread register() {
        PerThread t = new PerThread();
        synchronized (REGISTRY) {
            List<PerThread> live = new ArrayList<>();
            for (PerThread p : all) {
                if (p.owner().isAlive()) {
                    live.add(p);
                    continue;
                }
                // The thread is gone: nothing writes its counts any more, and its place and pool go.
                THREADS.forget(p);
                long[] c = p.counts;
                if (base.length < c.length) base = java.util.Arrays.copyOf(base, c.length);
                for (int i = 0; i < c.length; i++) base[i] += c[i];
            }
            live.add(t);
            all = live.toArray(new PerThread[0]);
        }
        return t;
    }
}
