package org.dmstack.dm;

import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;

/**
 * The clone of a bio that falls inside one target, with what its end needs (Linux's dm_target_io,
 * whose clone comes from the mapped device's bioset together with the bio's per-bio data). The
 * clone is kept with the bio it was made for ({@link Bio#keepClone}) and reused when that bio goes
 * down again, so a program that reuses its bios allocates nothing on dm's path, and one that
 * allocates a bio per request allocates its clone beside it: both are young, and storing one into
 * the other costs G1 nothing. A pool of clones per thread, as this was before, outlives the bios
 * it serves: its clones age into the old generation, and each new bio stored into one (the parent
 * here, the clone's {@code endsWith}) paid G1's post-write barrier, a full fence and a card for
 * refinement, which cost two threads through dm a fifth of brd's rate.
 *
 * <p>A clone keeps its end callback (this), the thread it last ended on and the mapped device it
 * last served, and its target is found by number in the live table (which cannot change while a
 * bio is in flight: a swap waits for them to drain), so that reusing it stores no reference that
 * has not changed. The mapped device it keeps holds no table once removed.
 */
final class TargetIo implements Bio.EndIo {
    private PerThread home;
    private MappedDevice md;
    private Bio parent;
    private DmStats.Aux aux;
    private int target; // the index in md's live table

    private TargetIo() {}

    /**
     * A clone of the whole of {@code parent} for target number {@code target} of {@code md}'s live
     * table: the one kept with {@code parent} when it has ended, else a new one kept there from now
     * on; its end ends the parent on {@code md}. {@code here} is the calling thread's.
     */
    static Bio clone(PerThread here, MappedDevice md, Bio parent, DmStats.Aux aux, int target) {
        Bio clone = parent.keptClone();
        TargetIo tio;
        if (clone != null && clone.endIo() instanceof TargetIo kept && clone.isDone()) {
            tio = kept;
            clone.initClone(parent, 0, parent.size());
        } else {
            // First trip, or the kept clone is another driver's or was held below and handed back.
            tio = new TargetIo();
            tio.home = here;
            clone = parent.clone(0, parent.size());
            clone.setEndIo(tio);
            parent.keepClone(clone);
        }
        // One atomic instruction ends both (dm's io_count for a bio it does not split): the clone's
        // end claims the parent's, and this finishes it.
        clone.endsWith(parent);
        if (tio.md != md) tio.md = md;
        if (tio.parent != parent) tio.parent = parent;
        if (tio.aux != aux) tio.aux = aux;
        tio.target = target;
        return clone;
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

    /** The clone ended, its end claiming the parent's: the target hears of it, then the parent is finished. */
    @Override
    public void endio(Bio c, BlkStatus status) {
        MappedDevice m = md;
        DmStats.Aux a = aux;
        if (a != null) aux = null;
        try {
            m.live().targets[target].endIo(c, status);
        } finally {
            PerThread here = PerThread.here(home);
            if (home != here) home = here;
            // Last: a submitter woken by the parent's end may send it, and this clone, down again.
            m.end(parent, a, status, here, true);
        }
    }
}
