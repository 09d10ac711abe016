package org.dmstack.dm;

import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;

/**
 * The clone of a bio that falls inside one target, with what its end needs (Linux's dm_target_io,
 * whose clone comes from the mapped device's bioset, a mempool). Clones are kept in a small pool
 * per thread and reused once they have ended, so such a bio allocates nothing on its way down: the
 * Java equivalent of the mempool, without a lock or an atomic instruction. A clone that ends on
 * another thread than the one that made it goes to that thread's pool (or to the garbage
 * collector when the pool is full); a thread whose pool is empty makes a new one. The pools are
 * {@link PerThread}'s; a clone remembers the one it came from, so a clone that ends on the thread
 * that made it goes back without a lookup.
 *
 * <p>A pooled clone keeps its end callback (this) and the pool and mapped device it last served,
 * and its target is found by number in the live table (which cannot change while a bio is in
 * flight: a swap waits for them to drain), so that reusing it stores only the parent: every
 * reference stored into an old object costs G1 a barrier with a full fence. It drops the parent,
 * whose buffer is the caller's memory. The mapped device it keeps holds no table once removed.
 */
final class TargetIo implements Bio.EndIo {
    private Bio clone;
    private PerThread home;
    private MappedDevice md;
    private Bio parent;
    private DmStats.Aux aux;
    private int target; // the index in md's live table

    private TargetIo() {}

    /**
     * A clone of the whole of {@code parent} for target number {@code target} of {@code md}'s live
     * table, from {@code here}'s pool (the calling thread's); its end ends the parent on {@code md}.
     */
    static Bio clone(PerThread here, MappedDevice md, Bio parent, DmStats.Aux aux, int target) {
        TargetIo tio;
        if (here.freeCount > 0) {
            tio = here.free[--here.freeCount];
            here.free[here.freeCount] = null;
            tio.clone.initClone(parent, 0, parent.size());
        } else {
            tio = new TargetIo();
            tio.home = here;
            tio.clone = parent.clone(0, parent.size());
            tio.clone.setEndIo(tio);
        }
        // One atomic instruction ends both (dm's io_count for a bio it does not split): the clone's
        // end claims the parent's, and this finishes it.
        tio.clone.endsWith(parent);
        if (tio.md != md) tio.md = md;
        tio.parent = parent;
        tio.aux = aux;
        tio.target = target;
        return tio.clone;
    }

    /** Whether {@code bio} is a whole-bio clone of {@code md}'s (one this class made and has not seen end). */
    static boolean cloneOf(Bio bio, MappedDevice md) {
        return bio.endIo() instanceof TargetIo tio && tio.md == md;
    }

    /**
     * Gives up a clone that never reached a device (it was held below): its parent goes back to
     * {@code md} to be mapped again by the table that comes next (dm's DM_MAPIO_REQUEUE of the
     * original). The target does not hear of it: its table is being destroyed.
     */
    static void requeue(Bio clone) {
        TargetIo tio = (TargetIo) clone.endIo();
        MappedDevice m = tio.md;
        Bio p = tio.parent;
        DmStats.Aux a = tio.aux;
        tio.md = null;
        tio.parent = null;
        tio.aux = null;
        m.requeue(p, a);
    }

    /**
     * The target killed this whole-bio clone: its parent's accounting and @stats are taken back
     * before the clone ends (dm does not count what it never mapped).
     */
    static void unaccount(Bio clone) {
        TargetIo tio = (TargetIo) clone.endIo();
        DmStats.Aux a = tio.aux;
        tio.aux = null;
        tio.md.unaccount(tio.parent, a);
    }

    /** The clone ended, its end claiming the parent's: the target hears of it, the clone goes back to the pool, the parent is finished. */
    @Override
    public void endio(Bio c, BlkStatus status) {
        MappedDevice m = md;
        Bio p = parent;
        DmStats.Aux a = aux;
        parent = null;
        aux = null;
        try {
            m.live().targets[target].endIo(c, status);
        } finally {
            // Back in the pool before the parent ends: a submitter woken by that end finds it there.
            // It lets go of the parent's buffer first: a pool must not keep callers' memory reachable.
            PerThread here = PerThread.here(home);
            if (here.freeCount < PerThread.POOL_SIZE) {
                c.uninit();
                if (home != here) home = here;
                here.free[here.freeCount++] = this;
            }
            m.end(p, a, status, here, true);
        }
    }
}
