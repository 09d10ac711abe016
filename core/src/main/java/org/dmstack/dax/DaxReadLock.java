package org.dmstack.dax;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.dmstack.threads.ThreadTable;

/**
 * Linux's dax_srcu: one read-side lock for every DAX device, so that a DAX operation enters the
 * device stack once, however many layers it crosses. A reader marks the epoch it started in on a
 * counter of its own thread (no shared write, as SRCU's per-CPU counters); {@link DaxDevice#kill()}
 * clears the device's alive flag, then {@link #synchronize()} flips the epoch and waits until the
 * old epoch's readers have left. Readers that come after the flip see the device dead (each layer
 * checks, as dax_alive does), so a kill waits only for operations that started before it and is
 * never starved by new ones.
 *
 * <p>A reader's count and the alive flag it checks are ordered by a full fence, against the
 * writer's flag and the counts it reads (the store-load order SRCU's smp_mb gives): either the
 * writer sees the reader, or the reader sees the device dead. Read-side sections must not sleep
 * on a device: a wait for a device to come back ({@link #outside}) leaves the section first.
 */
public final class DaxReadLock {
    private DaxReadLock() {}

    private static final VarHandle COUNT = MethodHandles.arrayElementVarHandle(int[].class);
    // A reader's two counters sit 64 bytes apart and away from other objects' lines: readers on
    // other threads never write the cache lines this thread's counters are in.
    private static final int PAD = 16;

    /** A thread's read-side counts, one per epoch parity; written by that thread only. */
    static final class Reader extends ThreadTable.Owned {
        private final int[] counts = new int[3 * PAD];
        /** The thread's fs-dax mapping, reused by every call ({@link FsDax}). */
        final DaxMapping mapping = new DaxMapping(this);

        /** dax_read_lock: marks this thread as reading in the current epoch; returns it for {@link #unlock}. */
        int lock() {
            int i = PAD + (epoch & 1) * PAD;
            COUNT.setOpaque(counts, i, counts[i] + 1);
            VarHandle.fullFence();
            return i;
        }

        /** dax_read_unlock: the section's loads and stores come before the count drops. */
        void unlock(int i) {
            COUNT.setRelease(counts, i, counts[i] - 1);
        }

        private boolean reading(int parity) {
            return (int) COUNT.getAcquire(counts, PAD + parity * PAD) != 0;
        }
    }

    private static volatile int epoch;
    private static volatile Reader[] readers = new Reader[0];
    /** Places of the readers' table: threads whose ids differ by a multiple of it take turns in one. */
    static final int PLACES = 1024;
    private static final ThreadTable<Reader> READERS = new ThreadTable<>(PLACES, DaxReadLock::register);

    /** This thread's reader. */
    static Reader reader() {
        return READERS.get();
    }

    // Apart from the writers' lock: a thread's first DAX call must not wait for a kill, which may
    // itself be waiting for a section that waits for that thread.
    private static final Object REGISTRY = new Object();

    private static Reader register() {
        synchronized (REGISTRY) {
            List<Reader> live = new ArrayList<>();
            // A thread that has ended left its sections: its reader can go, and its place too (the
            // place would keep its mapping, and a device it last used, reachable).
            for (Reader r : readers) {
                if (r.owner().isAlive()) live.add(r);
                else READERS.forget(r);
            }
            Reader self = new Reader();
            live.add(self);
            // Published before this thread's first section reads the epoch: a kill either finds
            // it among the readers or is seen by it (both are volatile, in opposite orders).
            readers = live.toArray(new Reader[0]);
            return self;
        }
    }

    /**
     * synchronize_srcu: returns once every read-side section that began before the call has ended.
     * The calling thread's own sections are not waited for (a kill from inside a DAX call would
     * wait for itself).
     */
    static synchronized void synchronize() {
        VarHandle.fullFence();
        Reader self = READERS.get();
        int old = epoch & 1;
        // Readers still in the other parity began before the previous flip: they go first, or the
        // flip below would mix them with the readers that begin after it.
        drain(old ^ 1, self);
        epoch = epoch + 1;
        VarHandle.fullFence();
        drain(old, self);
    }

    private static void drain(int parity, Reader self) {
        for (Reader r : readers) {
            if (r == self) continue;
            for (int spins = 0; r.reading(parity); spins++) {
                if (spins < 100) Thread.onSpinWait();
                else LockSupport.parkNanos(DaxReadLock.class, 50_000);
            }
        }
    }

    /** After a kill: no thread's mapping may keep {@code dead} reachable (see {@link DaxMapping#forget}). */
    static void forget(DaxDevice dead) {
        for (Reader r : readers) r.mapping.forget(dead);
    }

    /**
     * Runs {@code wait} outside this thread's DAX read-side sections, and enters them again after:
     * for a layer that waits for a device below to come back (dm holding a call while a driver is
     * updated), so that killing another device meanwhile need not wait for it. What the caller
     * checked before the wait may have died during it; the layers it calls next check again.
     */
    public static <T> T outside(Supplier<T> wait) {
        Reader r = READERS.get();
        int[] held = new int[2];
        for (int p = 0; p < 2; p++) {
            int i = PAD + p * PAD;
            held[p] = r.counts[i];
            COUNT.setRelease(r.counts, i, 0);
        }
        try {
            return wait.get();
        } finally {
            // Back in the same epochs, where the sections' unlocks will look. A writer that
            // scanned meanwhile did not wait for them; they see what it killed, as any late reader.
            for (int p = 0; p < 2; p++) {
                int i = PAD + p * PAD;
                COUNT.setOpaque(r.counts, i, r.counts[i] + held[p]);
            }
            VarHandle.fullFence();
        }
    }
}
