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
 *
 * <p>A batch of bios from one ring's submit (a plug) pays that fence once: the first bio of the
 * batch also sets the thread's mark on the device before its fence ({@link #plug}), the others count
 * themselves in without one ({@link #getPlugged}), and the mark is cleared with a release store
 * when the batch ends ({@link #unplug}). Whoever blocks waits until it sees no mark set, with
 * acquire reads, and only then sums ({@link #drained}): a mark it sees keeps it waiting, one it
 * sees cleared shows it every count the batch stored, and a batch that starts later sees the flag.
 */
final class InFlight {
    private final int slot = PerThread.allocateSlot();

    /** One more bio in flight, on {@code here} (the calling thread's); loads after this see what was stored before it. */
    void get(PerThread here) {
        here.add(slot, 1);
        VarHandle.fullFence();
    }

    /** Whether {@code here} (the calling thread's) is inside a batch it entered with {@link #plug}. */
    boolean plugged(PerThread here) {
        return here.marked(slot);
    }

    /**
     * One more bio in flight and the start of a batch, on {@code here} (the calling thread's), with
     * the one fence of {@link #get}; {@link #unplug} ends the batch.
     */
    void plug(PerThread here) {
        here.add(slot, 1);
        here.mark(slot, true);
        VarHandle.fullFence();
    }

    /** One more bio in flight inside a batch {@code here} entered: the batch's mark has been fenced. */
    void getPlugged(PerThread here) {
        here.add(slot, 1);
    }

    /** Ends {@code here}'s batch: the bios it counted are seen by whoever sees the mark cleared. */
    void unplug(PerThread here) {
        here.mark(slot, false);
    }

    /** One bio less in flight, on {@code here} (the calling thread's). */
    void put(PerThread here) {
        here.add(slot, -1);
    }

    /** Bios in flight now; exact once no new bio can be counted in (I/O blocked, then a full fence) and no batch is open. */
    long sum() {
        return PerThread.sum(slot);
    }

    /**
     * Whether nothing is in flight: no thread inside a batch, then a sum of 0. Exact once no new
     * bio can be counted in (I/O blocked, then a full fence).
     */
    boolean drained() {
        return !PerThread.anyMarked(slot) && sum() == 0;
    }

    /** The device is gone and has drained: its slot may serve another. */
    void release() {
        PerThread.releaseSlot(slot);
    }
}
