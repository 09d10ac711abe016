package org.dmstack.block;

import org.dmstack.units.Units;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A block I/O request, like Linux's struct bio: an operation, flags, a start sector, and for
 * READ and WRITE one data buffer whose length is the request size.
 *
 * <p>A bio is submitted to a {@link BlockDevice} and completes asynchronously: whoever finishes
 * it calls {@link #endio(BlkStatus)} exactly once, and {@link #completion()} then yields the
 * status. A stacking driver such as device-mapper may {@link #clone(long, long) clone} a part of
 * a bio and {@link #remap(BlockDevice, long) remap} the clone to a device below.
 */
public final class Bio {
    private BioOp op;
    private int flags; // a bit per BioFlag ordinal
    private MemorySegment data;
    private long size;
    private long sector;
    private BlockDevice device;
    private int targetBioNr;
    private EndIo endIo;
    private HandBack handBack;
    private Bio endsWith; // the parent whose end this clone's end claims (see endsWith), or null
    private Bio kept; // a stacking driver's clone of this bio, kept for its next trip (see keptClone)
    // How the bio stands (PENDING, ENDING, ENDED) in a word of its own: an end claims it with one
    // compare-and-set on an int, which G1 needs no barrier for, where a status reference took one
    // with a full fence of its own. The status goes beside it, and only when it is not OK.
    private volatile int state;
    private BlkStatus error; // how it ended, when not BlkStatus.OK; read after state is ENDED
    private volatile CompletableFuture<BlkStatus> future; // made only when someone waits
    private boolean acctOn; // accounting runs on acct: started there, not yet ended
    private boolean acctFlush;
    private long acctStart;
    // The last disk that started this bio, and acctThread's counters there. Kept when the bio ends
    // and across reset, so a ring's or a pool's bio that the same thread starts on the same disk
    // again looks nothing up and stores no reference: under G1 every reference stored into an old
    // object pays a barrier with a full fence, and a bio on dm's path used to store a dozen.
    private DiskStats acct;
    private long[] acctCell;
    private Thread acctThread;

    /**
     * What runs when a bio ends (Linux's bi_end_io): a stacking driver sets it on the clones it
     * sends down, to account for them and end the bio above. Called once, on the thread that
     * ends the bio.
     */
    @FunctionalInterface
    public interface EndIo {
        void endio(Bio bio, BlkStatus status);
    }

    /**
     * Who takes a bio back when the disk it was sent to is withdrawn before doing it (see
     * {@link GenDisk#handBack}): a stacking driver's hold on a device sets itself, so the bio can
     * wait for the device's return instead of failing. Called once per hand-back, on the thread
     * that withdraws the disk or submits to it.
     */
    @FunctionalInterface
    public interface HandBack {
        /** {@code bio} was not done by {@code from}, which is gone; its accounting there has ended. */
        void handBack(Bio bio, BlockDevice from);
    }

    private static final int PENDING = 0, ENDING = 1, ENDED = 2;
    private static final VarHandle STATE;
    private static final VarHandle FUTURE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(Bio.class, "state", int.class);
            FUTURE = l.findVarHandle(Bio.class, "future", CompletableFuture.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Bio(BioOp op, int flags, long sector, MemorySegment data, long size) {
        this.op = op;
        this.flags = flags;
        this.sector = sector;
        this.data = data;
        this.size = size;
    }

    /** A READ of {@code buffer.byteSize()} bytes at {@code sector} into {@code buffer}. */
    public static Bio read(long sector, MemorySegment buffer) {
        return new Bio(BioOp.READ, noFlags(), sector, buffer, buffer.byteSize());
    }

    /** A WRITE of {@code buffer} at {@code sector}, with optional PREFLUSH and FUA. */
    public static Bio write(long sector, MemorySegment buffer, BioFlag... flags) {
        return new Bio(BioOp.WRITE, flagsOf(flags), sector, buffer, buffer.byteSize());
    }

    /** An empty FLUSH (in Linux, a write with PREFLUSH and no data). */
    public static Bio flush() {
        return new Bio(BioOp.FLUSH, bit(BioFlag.PREFLUSH), 0, null, 0);
    }

    /** A DISCARD of {@code bytes} bytes at {@code sector}. */
    public static Bio discard(long sector, long bytes) {
        return new Bio(BioOp.DISCARD, noFlags(), sector, null, bytes);
    }

    /** A WRITE_ZEROES of {@code bytes} bytes at {@code sector}. */
    public static Bio writeZeroes(long sector, long bytes, BioFlag... flags) {
        return new Bio(BioOp.WRITE_ZEROES, flagsOf(flags), sector, null, bytes);
    }

    /** Any bio, built from its parts; data must be given exactly for READ and WRITE. */
    public static Bio of(BioOp op, Set<BioFlag> flags, long sector, MemorySegment data, long size) {
        if (op.hasData() != (data != null)) {
            throw new IllegalArgumentException(op + (op.hasData() ? " needs a data buffer" : " carries no data buffer"));
        }
        if (data != null && data.byteSize() != size) throw new IllegalArgumentException("size " + size + " != buffer size " + data.byteSize());
        int bits = 0;
        for (BioFlag f : flags) bits |= bit(f);
        return new Bio(op, bits, sector, data, size);
    }

    private static int noFlags() {
        return 0;
    }

    private static int bit(BioFlag flag) {
        return 1 << flag.ordinal();
    }

    private static int flagsOf(BioFlag... flags) {
        int bits = 0;
        for (BioFlag f : flags) bits |= bit(f);
        return bits;
    }

    /**
     * A new bio for part of this one: {@code bytes} bytes starting {@code byteOffset} bytes into
     * it, same operation and flags, its own completion. Used to split a bio at a boundary.
     */
    public Bio clone(long byteOffset, long bytes) {
        checkPart(byteOffset, bytes);
        Bio clone = new Bio(op, flags, sector + (byteOffset >> Units.SECTOR_SHIFT), part(byteOffset, bytes), bytes);
        clone.device = device;
        return clone;
    }

    /**
     * Makes this bio, which has ended, a clone of part of {@code src} as {@link #clone} would (Linux's
     * bio_init_clone): for stacking drivers that keep their clones and reuse them, so a bio through
     * them allocates nothing. The hand-back route is cleared; the end callback stays (a pool's
     * clones keep their pool's, as {@link #reset} keeps it).
     *
     * @throws IllegalStateException when this bio has not ended (it may still be in flight)
     */
    public void initClone(Bio src, long byteOffset, long bytes) {
        src.checkPart(byteOffset, bytes);
        checkEnded();
        init(src.op, src.flags, src.sector + (byteOffset >> Units.SECTOR_SHIFT), src.part(byteOffset, bytes), bytes);
        if (device != src.device) device = src.device;
    }

    /**
     * Makes this bio, which has ended, a new READ or WRITE of {@code data} at {@code sector}
     * without flags (Linux's bio_reset), so that a program with many bios in flight reuses them
     * instead of allocating one per request. The end callback stays.
     *
     * @throws IllegalStateException when this bio has not ended (it may still be in flight)
     * @throws IllegalArgumentException for an operation without data, or no buffer
     */
    public Bio reset(BioOp op, long sector, MemorySegment data) {
        if (!op.hasData() || data == null) throw new IllegalArgumentException("reset takes a READ or WRITE with its buffer, not " + op);
        checkEnded();
        init(op, 0, sector, data, data.byteSize());
        device = null;
        return this;
    }

    /**
     * Lets an ended bio that is kept for reuse drop what it refers to — its buffer, device,
     * hand-back route, accounting disk and kept clone (Linux's bio_uninit) — so that a pool of
     * them does not keep callers' buffers or devices that went reachable. The end callback stays:
     * it is the pool's own. It stays ended; {@link #initClone} or {@link #reset} makes it a bio
     * again.
     *
     * @throws IllegalStateException when this bio has not ended
     */
    public void uninit() {
        checkEnded();
        data = null;
        device = null;
        handBack = null;
        endsWith = null;
        kept = null;
        acctOn = false;
        acct = null;
    }

    private void checkEnded() {
        if (state != ENDED) throw new IllegalStateException("bio in flight (or never submitted): " + this);
    }

    private void init(BioOp op, int flags, long sector, MemorySegment data, long size) {
        // References stored only when they change (see acct): a reused bio mostly gets its own back.
        if (this.op != op) this.op = op;
        this.flags = flags;
        this.sector = sector;
        if (this.data != data) this.data = data;
        this.size = size;
        targetBioNr = 0;
        handBack = null;
        endsWith = null;
        acctOn = false;
        error = null;
        // Release stores, not volatile ones: the bio reaches other threads through its submission,
        // which publishes these writes; a full fence per reuse would cost more than the rest of it.
        FUTURE.setRelease(this, (CompletableFuture<BlkStatus>) null);
        STATE.setRelease(this, PENDING); // last: a bio seen not done is wholly the new one
    }

    private void checkPart(long byteOffset, long bytes) {
        if (byteOffset < 0 || bytes < 0 || byteOffset + bytes > size || (byteOffset & (Units.SECTOR_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("clone(" + byteOffset + ", " + bytes + ") outside a bio of " + size + " bytes");
        }
    }

    /** The data of a part: the buffer itself for the whole bio (no slice to allocate). */
    private MemorySegment part(long byteOffset, long bytes) {
        if (data == null) return null;
        return byteOffset == 0 && bytes == data.byteSize() ? data : data.asSlice(byteOffset, bytes);
    }

    /** Points this bio at another device and sector, as a stacking driver's map does. */
    public void remap(BlockDevice device, long sector) {
        if (this.device != device) this.device = device;
        this.sector = sector;
    }

    /**
     * Points a bio without data (DISCARD, WRITE_ZEROES) at another device and a range no larger
     * than its own, as dm-stripe's map does when it sends each stripe only the part of a discard
     * that stripe holds (Linux sets bi_sector and bi_size).
     *
     * @throws IllegalArgumentException for a bio that carries data, or {@code bytes} not a whole
     *     number of sectors between 1 and the bio's size
     */
    public void remap(BlockDevice device, long sector, long bytes) {
        if (data != null) throw new IllegalArgumentException(op + " carries data: its size cannot change on remap");
        if (bytes <= 0 || bytes > size || (bytes & (Units.SECTOR_SIZE - 1)) != 0) {
            throw new IllegalArgumentException("remap to " + bytes + " bytes: must be whole sectors, 1 to " + size);
        }
        remap(device, sector);
        this.size = bytes;
    }

    /**
     * Which of several identical clones this is, when a stacking driver sends one bio to many
     * places (dm's target_bio_nr: a flush or discard sent once per stripe).
     */
    public int targetBioNr() {
        return targetBioNr;
    }

    public void setTargetBioNr(int targetBioNr) {
        this.targetBioNr = targetBioNr;
    }

    public BioOp op() {
        return op;
    }

    public boolean hasFlag(BioFlag flag) {
        return (flags & bit(flag)) != 0;
    }

    /** A copy of the flags. */
    public Set<BioFlag> flags() {
        Set<BioFlag> set = EnumSet.noneOf(BioFlag.class);
        for (BioFlag f : BioFlag.values()) if (hasFlag(f)) set.add(f);
        return set;
    }

    /** Drops a flag: a device without a write cache drops PREFLUSH and FUA; dm drops PREFLUSH once the flush is done. */
    public void clearFlag(BioFlag flag) {
        flags &= ~bit(flag);
    }

    /**
     * Starts this bio's accounting on a disk (GenDisk.submit); {@code flush} when the disk also
     * flushes for it (its PREFLUSH, or a flush after it standing in for FUA). A bio passed on unchanged to a
     * second disk is accounted there too, by its end callback: one bio, one slot, the rare case pays.
     */
    void startAccounting(DiskStats stats, boolean flush) {
        if (!acctOn) {
            Thread me = Thread.currentThread();
            if (acct != stats || acctThread != me) {
                acct = stats;
                acctCell = stats.cell();
                acctThread = me;
            }
            acctStart = stats.start(acctCell, op, sectors());
            acctFlush = flush;
            acctOn = true;
        } else {
            long start = stats.start(stats.cell(), op, sectors());
            EndIo next = endIo;
            endIo = (bio, status) -> {
                stats.end(stats.cell(), op, flush, start);
                if (next != null) next.endio(bio, status);
            };
        }
    }

    /**
     * Ends this bio's accounting on the disk that started it, which gives it back undone (a
     * withdrawn disk): the disk it goes to next accounts it afresh.
     */
    void endAccounting() {
        if (!acctOn) return;
        acctOn = false;
        acct.end(acctCellHere(), op, acctFlush, acctStart);
    }

    /** Takes back this bio's accounting on {@code stats}, as if it had never started there (GenDisk.cancelIoAcct). */
    void cancelAccounting(DiskStats stats) {
        if (!acctOn || acct != stats) return;
        acctOn = false;
        acct.cancel(acctCellHere(), op, sectors(), acctStart);
    }

    /** The calling thread's counters on acct: the ones kept when it is the thread that started the bio. */
    private long[] acctCellHere() {
        return Thread.currentThread() == acctThread ? acctCell : acct.cell();
    }

    /** Sets who takes this bio back if the disk it is sent to is withdrawn first (see {@link HandBack}). */
    public void setHandBack(HandBack handBack) {
        if (this.handBack != handBack) this.handBack = handBack;
    }

    /** Who takes this bio back if its disk is withdrawn; null when nobody does (it then fails). */
    public HandBack handBack() {
        return handBack;
    }

    /**
     * The ring whose {@link BioRing#submit()} is sending this bio down on the calling thread (the
     * task's blk_plug, current->plug), or null: a driver may then batch per-bio work with
     * {@link BioRing#onUnplug}.
     */
    public BioRing plug() {
        return endIo instanceof BioRing ring && ring.plugging() ? ring : null;
    }

    /** What runs when this bio ends (bi_end_io); null when nothing does. */
    public EndIo endIo() {
        return endIo;
    }

    /** Sets what runs when this bio ends (see {@link EndIo}); set it before submitting the bio. */
    public void setEndIo(EndIo endIo) {
        if (this.endIo != endIo) this.endIo = endIo;
    }

    public long sector() {
        return sector;
    }

    /** Size in bytes (0 for an empty flush). */
    public long size() {
        return size;
    }

    /** Size in sectors. */
    public long sectors() {
        return size >> Units.SECTOR_SHIFT;
    }

    /** The data buffer for READ and WRITE; null otherwise. */
    public MemorySegment data() {
        return data;
    }

    /** The device this bio was last remapped to; null before any remap. */
    public BlockDevice device() {
        return device;
    }

    /**
     * Makes this bio, a stacking driver's clone of the whole of {@code parent} that is its only
     * one, end with it in one step (dm's single clone of a bio it does not split: Linux 6.1 ends
     * both with one io_count): this bio's end claims the parent's end, with the one atomic
     * instruction an end takes, instead of its own, and only the first end of either counts. The
     * end callback of this bio then finishes the parent with {@link #endClaimed}; until then the
     * parent is neither done nor can it be ended otherwise. Nobody waits on such a clone
     * ({@link #completion()} refuses): its callback is its one listener. {@link #initClone},
     * {@link #reset} and {@link #uninit} undo it.
     */
    public void endsWith(Bio parent) {
        if (endsWith != parent) endsWith = parent;
    }

    /**
     * The clone a stacking driver made of this bio on an earlier trip down and keeps with it
     * ({@link #keepClone}), or null. It has ended once this bio has, unless it never reached a
     * device (it was held and handed back); the driver checks {@link #isDone()} before reusing it.
     */
    public Bio keptClone() {
        return kept;
    }

    /**
     * Keeps a stacking driver's clone of this bio with it, to be reused when this bio goes down
     * again (Linux allocates dm's clone and its per-bio data with the bio, from one bioset). The
     * clone lives and dies with this bio: made when a new bio first goes down, so both are young
     * objects and storing one into the other costs the garbage collector nothing, and reused
     * without allocating when a program reuses its bio ({@link #reset}). A clone kept in a pool
     * instead outlives the bios it serves, and each new bio stored into it costs G1 a barrier with
     * a full fence and a card to refine. It keeps what it last pointed at (the device below, this
     * bio's buffer) as long as this bio is kept.
     */
    public void keepClone(Bio clone) {
        if (kept != clone) kept = clone;
    }

    /** Ends the bio. Only the first call counts: a bio completes exactly once. */
    public void endio(BlkStatus status) {
        Bio parent = endsWith;
        if (parent == null) {
            if (!STATE.compareAndSet(this, PENDING, ENDING)) return;
        } else if (!STATE.compareAndSet(parent, PENDING, ENDING)) {
            return; // a clone's second end finds its parent's claimed
        }
        // Claimed: nobody else writes the status or the state now.
        finish(status);
    }

    /**
     * Finishes a bio whose end a clone of it claimed ({@link #endsWith}), with the status the
     * clone's end callback decided; does nothing for a bio that is not being ended so.
     */
    public void endClaimed(BlkStatus status) {
        if (state == ENDING) finish(status);
    }

    /** The end of a claimed bio: its status, its accounting, then those who wait for it. */
    private void finish(BlkStatus status) {
        if (status != BlkStatus.OK) error = status;
        STATE.setRelease(this, ENDED);
        // Accounted before anyone hears of the end: whoever waits on a bio sees it in the disk's stat.
        if (acctOn) {
            acctOn = false;
            acct.end(acctCellHere(), op, acctFlush, acctStart);
        }
        try {
            EndIo e = endIo;
            if (e != null) e.endio(this, status);
        } finally {
            // A failing callback must not leave those who wait on this bio waiting forever.
            CompletableFuture<BlkStatus> f = future;
            if (f != null) f.complete(status);
        }
    }

    /** The status once the bio has ended (for those who wait on it or chain work after it). */
    public CompletionStage<BlkStatus> completion() {
        if (endsWith != null) throw new IllegalStateException("a clone that ends with its parent is not waited on: wait on the parent (" + this + ")");
        CompletableFuture<BlkStatus> f = future;
        if (f == null) {
            f = new CompletableFuture<>();
            if (!FUTURE.compareAndSet(this, (CompletableFuture<BlkStatus>) null, f)) f = future;
        }
        // endio claims the end (a full fence) before it looks for a future: it sees this one, or
        // this sees the claim. A claimed end is a few stores away from ENDED (a clone's, the
        // target's end_io and dm's pool): wait for it.
        int st;
        for (int spins = 0; (st = state) == ENDING; spins++) {
            if (spins < 100) Thread.onSpinWait();
            else Thread.yield();
        }
        if (st == ENDED) f.complete(status());
        return f;
    }

    public boolean isDone() {
        return state == ENDED;
    }

    /** How the bio ended; only once {@link #isDone()}. */
    private BlkStatus status() {
        BlkStatus e = error;
        return e == null ? BlkStatus.OK : e;
    }

    /** Waits for the bio to complete and returns its status. */
    public BlkStatus await() {
        return state == ENDED ? status() : completion().toCompletableFuture().join();
    }

    @Override
    public String toString() {
        return op + (flags == 0 ? "" : flags().toString()) + " sector " + sector + " size " + size;
    }
}
