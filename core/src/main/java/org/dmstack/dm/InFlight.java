package org.dmstack.dm;

import java.lang.invoke.VarHandle;

/**
 * A mapped device's count of bios in flight, kept per thread as Linux keeps md->pending_io per
 * CPU (and percpu_ref for a queue): a bio counts up and down on the share of the thread it is on
 * ({@link PerThread}), with plain stores to memory no other thread writes, instead of an atomic
 * add and subtract on one shared counter. Only suspend, withdrawal and removal need the total,
 * and they sum the shares.
 *
 * <p>Exactness: a submitter counts itself in, then looks whether I/O is blocked; the one who
 * blocks sets the flag, then sums. {@link #get} ends with a full fence and so does the blocking
 * side (Dekker's rule, what srcu_read_lock's barrier gives dm_submit_bio in Linux): either the
 * submitter sees the flag and counts itself out again, or the sum sees the submitter. A thread's
 * own fence costs no cache line that another thread writes.
 */
final class InFlight {
    private final int slot = PerThread.allocateSlot();

    /** One more bio in flight, on {@code here} (the calling thread's); loads after this see what was stored before it. */
    void get(PerThread here) {
        here.add(slot, 1);
        VarHandle.fullFence();
    }

    /** One bio less in flight, on {@code here} (the calling thread's). */
    void put(PerThread here) {
        here.add(slot, -1);
    }

    /** Bios in flight now; exact once no new bio can be counted in (I/O blocked, then a full fence). */
    long sum() {
        return PerThread.sum(slot);
    }

    /** The device is gone and has drained: its slot may serve another. */
    void release() {
        PerThread.releaseSlot(slot);
    }
}
