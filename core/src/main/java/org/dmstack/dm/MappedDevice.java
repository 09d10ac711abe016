package org.dmstack.dm;

import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BioRing;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.IoAccounting;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;

/**
 * A mapped device (dm.c's mapped_device): a block device dm-N whose bios and DAX calls are
 * mapped through its live table. It has a live and an inactive table slot; while suspended, new
 * I/O is held and resumes when the device does.
 */
public final class MappedDevice {
    static {
        // Loaded now, not by the first split bio or @stats region: until then the JIT would not
        // inline the bio path's calls whose signatures name them (dispatch, TargetIo.clone,
        // DmStats.start: "unloaded signature classes"), and every bio paid those calls.
        loaded(DmIo.class, DmStats.Aux.class);
    }

    private static void loaded(Class<?>... classes) {}

    private volatile String name;
    private volatile String uuid;
    private final GenDisk disk;
    private final DaxDevice dax;
    private volatile DmTable live;
    private volatile DmTable inactive;
    /** The inactive table's mode has no FMODE_WRITE; guarded by the owning DeviceMapper. */
    private boolean inactiveReadOnly;
    private volatile boolean suspended;
    /** Guarded by the DeviceMapper that owns this device. */
    private boolean typed;
    /** Whether the first table was DAX-capable (md->type DM_TYPE_DAX_BIO_BASED); guarded as {@link #typed}. */
    private boolean daxTyped;
    private volatile boolean blocked;
    private volatile String noTableReason;
    private final InFlight inFlight = new InFlight();
    private final Runnable unplug = this::unplug;
    private final ArrayDeque<Bio> deferred = new ArrayDeque<>();
    private volatile Thread waiter;
    /** DMF_DEFERRED_REMOVE: remove once no table uses this device. */
    private volatile boolean deferredRemove;
    private final AtomicInteger eventNumber = new AtomicInteger();
    /** What {@link #awaitEvent} waits on (md->eventq). */
    private final Object eventq = new Object();
    private final DmStats stats;

    MappedDevice(String name, String uuid, DevT devt, java.util.function.LongSupplier jiffies) {
        this.name = name;
        this.uuid = uuid;
        // Until a table is live the disk has the limits blk_alloc_disk gives (blk_set_default_limits), without DAX.
        QueueLimits untabled = QueueLimits.of(Units.SECTOR_SIZE, Units.SECTOR_SIZE);
        this.disk = GenDisk.builder("dm-" + devt.minor(), devt, 0, this::submitBio)
                .limits(untabled)
                .dax(new DaxOps(), false)
                // 6.1's dm_io_acct accounts every dm_io, whatever queue/iostats says (it shows 0: not set for bio-based dm).
                .accounting(IoAccounting.DRIVER, false)
                .fuaToDriver()
                // alloc_dev: disk->minors = 1 and GENHD_FL_NO_PART.
                .partitions(1, true)
                .clock(jiffies)
                .build();
        this.dax = disk.dax();
        // In 6.1 dax/write_cache is pmem's own attribute group: a mapped device has the flag, not the file.
        disk.attributes().remove("dax/write_cache");
        this.stats = new DmStats(jiffies, System::nanoTime);
        disk.setLimits(untabled.setDax(false));
        disk.attributes().define("dm/name", () -> this.name);
        disk.attributes().define("dm/uuid", () -> this.uuid == null ? "" : this.uuid);
        disk.attributes().define("dm/suspended", () -> suspended ? "1" : "0");
    }

    /** The dm name (dmsetup's NAME). */
    public String name() {
        return name;
    }

    void rename(String newName) {
        name = newName;
    }

    public String uuid() {
        return uuid;
    }

    /** Sets the uuid of a device created without one (rename --setuuid); the caller checks it is unset. */
    void setUuid(String uuid) {
        this.uuid = uuid;
    }

    /** The block device dm-N, as the layers above use it. */
    public BlockDevice disk() {
        return disk;
    }

    public DevT devt() {
        return disk.devt();
    }

    public boolean suspended() {
        return suspended;
    }

    public boolean hasLiveTable() {
        return live != null;
    }

    public boolean hasInactiveTable() {
        return inactive != null;
    }

    public int eventNumber() {
        return eventNumber.get();
    }

    /**
     * dm.c's event_callback, reached through dm_table_event on the live table: the event number
     * goes up and those waiting for it wake.
     */
    void event() {
        eventNumber.incrementAndGet();
        synchronized (eventq) {
            eventq.notifyAll();
        }
    }

    /** get_disk_ro: the live table was loaded read-only, or the disk was made so (blockdev --setro). */
    public boolean readOnly() {
        return disk.readOnly();
    }

    public boolean deferredRemove() {
        return deferredRemove;
    }

    void setDeferredRemove(boolean deferred) {
        deferredRemove = deferred;
    }

    /** The live table's dm_table_event (as rename and remove raise it): nothing without a live table. */
    void tableEvent() {
        if (live != null) event();
    }

    /** dm_wait_event: returns once the event number is no longer {@code eventNr}. */
    void awaitEvent(int eventNr) throws InterruptedException {
        synchronized (eventq) {
            while (eventNumber.get() == eventNr) eventq.wait();
        }
    }

    /** The @stats regions (dm-stats.c). */
    DmStats stats() {
        return stats;
    }

    DmTable live() {
        return live;
    }

    DmTable inactive() {
        return inactive;
    }

    /** Puts a table in the inactive slot; returns the one it replaced (to be destroyed). */
    DmTable setInactive(DmTable table) {
        return setInactive(table, false);
    }

    /** {@link #setInactive(DmTable)}, for a table whose mode is {@code readOnly} (DM_READONLY_FLAG). */
    DmTable setInactive(DmTable table, boolean readOnly) {
        DmTable old = inactive;
        inactive = table;
        inactiveReadOnly = readOnly;
        if (table != null && !typed) {
            typed = true;
            daxTyped = table.dax;
        }
        return old;
    }

    /**
     * 6.1's is_valid_type for a table loaded after the first: a device whose first table was DAX
     * keeps that type, and dm_table_determine_type gives a table without devices (error, zero)
     * the type of the device it is loaded on.
     */
    boolean typeAllows(DmTable table) {
        return !daxTyped || table.dax || table.devices.isEmpty();
    }

    /**
     * Whether a table was ever loaded (Linux's md->type, set by the first load and kept): the
     * first table's device areas are checked when it is loaded, later ones when resumed.
     */
    boolean typed() {
        return typed;
    }

    // ---- suspend and resume ----

    /** Holds new I/O and waits for the I/O in flight (dm_suspend). */
    void suspend() {
        if (suspended) return;
        DmTable t = live;
        if (t != null) for (Target target : t.targets) target.presuspend();
        block();
        if (t != null) for (Target target : t.targets) target.postsuspend();
        suspended = true;
    }

    /**
     * Makes the inactive table live if there is one, then lets held I/O go (dm_resume). Returns
     * the table that stopped being live, for the caller to destroy.
     */
    DmTable resume() {
        DmTable old = null;
        DmTable next = inactive;
        if (next != null) {
            if (!suspended) suspend();
            old = live;
            live = next;
            inactive = null;
            // do_resume: set_disk_ro follows the mode of the table swapped in.
            disk.setReadOnly(inactiveReadOnly);
            inactiveReadOnly = false;
            applyRestrictions(next);
            if (old != null) old.bindEvents(null);
        }
        if (!suspended) return old;
        DmTable t = live;
        if (t != null) for (Target target : t.targets) target.resume();
        suspended = false;
        unblock();
        return old;
    }

    /** dm_table_set_restrictions: size, limits and both write caches follow the live table. */
    private void applyRestrictions(DmTable t) {
        t.bindEvents(this::event);
        disk.setCapacity(t.size);
        disk.setLimits(t.limits);
        disk.setWriteCache(t.writeCache, t.fua);
        // 6.1 only ever sets it ("if (dm_table_any_dev_attr(t, device_dax_write_cache_enabled, NULL))
        // dax_write_cache(t->md->dax_dev, true)"): once a table had it, later tables keep flushing.
        if (t.daxWriteCache) dax.setWriteCache(true);
    }

    /** Stops new I/O (it is deferred) and waits until none is in flight. */
    void block() {
        block(false);
    }

    /**
     * {@link #block}, for tables about to be destroyed (their target type went away): a bio held
     * below because its device is away too (both leave in a core update) would never end while
     * this waits, so each is taken back and its parent requeued, to be mapped again by the table
     * that comes back.
     */
    void blockRequeueingHeld() {
        block(true);
    }

    private void block(boolean requeueHeld) {
        blocked = true;
        waiter = Thread.currentThread();
        // The other half of InFlight.get's fence: a submitter that did not see the flag is in the sum.
        VarHandle.fullFence();
        while (!inFlight.drained()) {
            if (requeueHeld) requeueHeld();
            LockSupport.parkNanos(this, 200_000);
        }
        waiter = null;
    }

    private void requeueHeld() {
        for (DmTable t : new DmTable[] {live, inactive}) {
            if (t == null) continue;
            for (DeviceHandle h : t.devices) for (Bio clone : h.takeHeld(b -> TargetIo.cloneOf(b, this))) TargetIo.requeue(clone);
        }
    }

    /** A bio given up below goes back to the front of the deferred queue; it is no longer in flight (its dm_io ended). */
    void requeue(Bio bio, DmStats.Aux aux) {
        disk.endIoAcct(bio);
        if (aux != null) stats.end(aux);
        synchronized (deferred) {
            deferred.addFirst(bio);
        }
        ioDone(PerThread.get());
    }

    /** Lets deferred I/O go, in the order it came. */
    void unblock() {
        ArrayDeque<Bio> run;
        synchronized (deferred) {
            blocked = false;
            run = new ArrayDeque<>(deferred);
            deferred.clear();
        }
        for (Bio bio : run) submitBio(bio);
    }

    /** Fails the deferred I/O (the device is being removed). */
    void failDeferred(String why) {
        ArrayDeque<Bio> failed;
        synchronized (deferred) {
            failed = new ArrayDeque<>(deferred);
            deferred.clear();
        }
        for (Bio bio : failed) bio.endio(BlkStatus.ioerr(why));
    }


    DaxDevice daxDevice() {
        return dax;
    }

    /** Forgets both tables (their target type went away); I/O must already be blocked. */
    void detachTables() {
        if (live != null) live.bindEvents(null);
        live = null;
        inactive = null;
    }

    /** Puts rebuilt tables back and lets I/O go again, unless the device was suspended by hand. */
    void reattachTables(DmTable newLive, DmTable newInactive) {
        live = newLive;
        inactive = newInactive;
        if (newLive != null) applyRestrictions(newLive);
        noTableReason = null;
        if (!suspended) unblock();
    }

    /** Stops holding I/O for a table that is not coming back soon: it fails with {@code reason}. */
    void failFast(String reason) {
        noTableReason = reason;
        if (!suspended) unblock();
    }

    // ---- the bio path (dm_submit_bio) ----

    private void submitBio(Bio bio) {
        PerThread here = PerThread.get();
        BioRing plug = bio.plug();
        for (;;) {
            if (plug == null) {
                inFlight.get(here);
            } else if (inFlight.plugged(here)) {
                inFlight.getPlugged(here);
            } else {
                // The first bio of a ring's batch: one fence for the batch, undone when it ends.
                inFlight.plug(here);
                plug.onUnplug(unplug);
            }
            if (!blocked) {
                process(bio, here);
                return;
            }
            ioDone(here);
            synchronized (deferred) {
                if (blocked) {
                    deferred.addLast(bio);
                    return;
                }
            }
        }
    }

    /** Ends the calling thread's batch (see InFlight); wakes a suspend that waits for it. */
    private void unplug() {
        inFlight.unplug(PerThread.get());
        if (blocked) {
            Thread t = waiter;
            if (t != null) LockSupport.unpark(t);
        }
    }

    /** One bio less in flight, counted on {@code here} (the calling thread's); wakes a suspend that waits. */
    private void ioDone(PerThread here) {
        inFlight.put(here);
        // Without a fence this may miss a suspend that has just begun: block() looks again within 200 µs.
        if (blocked) {
            Thread t = waiter;
            if (t != null) LockSupport.unpark(t);
        }
    }

    /** The device is removed and has drained: its share of the per-thread counts may serve another. */
    void release() {
        inFlight.release();
    }

    /** Tracks one bio's parts (each a {@link DmIo}): the parent ends when the last part has. */
    private static final class Io {
        private final AtomicInteger remaining = new AtomicInteger(1);
        private final AtomicReference<BlkStatus> error = new AtomicReference<>();
        private final Consumer<BlkStatus> done;

        Io(Consumer<BlkStatus> done) {
            this.done = done;
        }

        void add() {
            remaining.incrementAndGet();
        }

        void dec(BlkStatus status) {
            if (!status.isOk()) error.compareAndSet(null, status);
            if (remaining.decrementAndGet() == 0) {
                BlkStatus e = error.get();
                done.accept(e == null ? BlkStatus.OK : e);
            }
        }
    }

    /**
     * One dm_io: the part of a bio that dm maps as one (a bio that crosses a target's or a
     * stripe chunk's end is several, as dm_split_and_process_bio makes them) and accounts as one
     * I/O on dm-N and in its @stats, by dm_io_acct's rules: accounting starts when a target first
     * takes one of its clones (dm_start_io_acct, after map returns REMAPPED or SUBMITTED), and
     * ends when the last clone has; a part no target took ends uncounted if it failed, and is
     * counted at its end otherwise. The submission reference (alloc_io's) keeps it from ending
     * while its clones are being mapped. It is its own count of references, one object per part.
     */
    @SuppressWarnings("serial")
    private final class DmIo extends AtomicInteger {
        private volatile BlkStatus error; // the last error wins, as dm_io_set_error's
        private final BioOp op;
        private final long sector;
        private final long sectors;
        private final Io whole;
        private boolean accounted;
        private long start;
        private DmStats.Aux aux;

        /** @param sectors what dm_io_acct counts: 0 for a flush, or the flush before a PREFLUSH write's data */
        DmIo(BioOp op, long sector, long sectors, Io whole) {
            super(1);
            this.op = op;
            this.sector = sector;
            this.sectors = sectors;
            this.whole = whole;
            whole.add();
        }

        /** dm_start_io_acct: once, on the submitting thread, before the clone goes down. */
        void account() {
            if (accounted) return;
            accounted = true;
            start = disk.startIoAcct(op, sectors);
            aux = stats.start(op, sector, sectors);
        }

        void add() {
            incrementAndGet();
        }

        void dec(BlkStatus status) {
            if (!status.isOk()) error = status;
            if (decrementAndGet() != 0) return;
            BlkStatus e = error;
            if (!accounted && e == null) account();
            if (accounted) {
                disk.endIoAcct(op, start);
                if (aux != null) stats.end(aux);
            }
            whole.dec(e == null ? BlkStatus.OK : e);
        }
    }

    private void process(Bio bio, PerThread here) {
        DmTable t = live;
        if (t == null) {
            // Never mapped, so never accounted.
            String why = noTableReason;
            end(bio, null, BlkStatus.ioerr(disk.name() + " (" + name + "): " + (why != null ? why : "no table loaded")), here);
            return;
        }
        if (bio.op() == BioOp.FLUSH) {
            Io whole = new Io(status -> end(bio, null, status, PerThread.get()));
            sendFlush(t, new DmIo(bio.op(), bio.sector(), 0, whole));
            whole.dec(BlkStatus.OK);
        } else if (bio.hasFlag(BioFlag.PREFLUSH)) {
            // The flush first, a dm_io of its own that counts no sectors; the data follows only when it succeeded (dm's flush-with-data).
            Io whole = new Io(status -> {
                if (!status.isOk()) {
                    end(bio, null, status, PerThread.get());
                } else {
                    bio.clearFlag(BioFlag.PREFLUSH);
                    sendData(t, bio, PerThread.get());
                }
            });
            sendFlush(t, new DmIo(bio.op(), bio.sector(), 0, whole));
            whole.dec(BlkStatus.OK);
        } else {
            sendData(t, bio, here);
        }
    }

    /** Ends a bio to this device on {@code here}'s thread: its @stats, its end, and one less in flight for suspend. */
    void end(Bio bio, DmStats.Aux aux, BlkStatus status, PerThread here) {
        end(bio, aux, status, here, false);
    }

    /**
     * {@link #end}; {@code claimed} for a bio whose one clone's end has claimed its end
     * ({@link Bio#endsWith}), which is finished rather than ended.
     */
    void end(Bio bio, DmStats.Aux aux, BlkStatus status, PerThread here, boolean claimed) {
        if (aux != null) stats.end(aux);
        if (claimed) bio.endClaimed(status);
        else bio.endio(status);
        ioDone(here);
    }

    /** __send_empty_flush: each target's flush bios, all clones of one dm_io. */
    private void sendFlush(DmTable t, DmIo io) {
        for (int i = 0; i < t.targets.length; i++) {
            for (int n = 0; n < t.targets[i].numFlushBios(); n++) {
                Bio clone = Bio.flush();
                clone.setTargetBioNr(n);
                map(t, i, clone, io);
            }
        }
        io.dec(BlkStatus.OK);
    }

    private void sendData(DmTable t, Bio bio, PerThread here) {
        long sector = bio.sector();
        if (bio.op() != BioOp.DISCARD && bio.op() != BioOp.WRITE_ZEROES) {
            int i = t.findTarget(sector);
            if (t.maxIoLen(i, sector) >= bio.sectors()) {
                // The common case: the whole bio falls in one target, one dm_io and one reused clone,
                // accounted on the bio itself (dispatch takes it back if the target kills the clone).
                disk.startIoAcct(bio);
                DmStats.Aux aux = stats.start(bio.op(), sector, bio.sectors());
                dispatch(t, i, TargetIo.clone(here, this, bio, aux, i), null);
                return;
            }
        }
        split(t, bio);
    }

    /** __split_and_process_bio for a bio that crosses a target's or a chunk's end, a discard or a write-zeroes: a dm_io per part. */
    private void split(DmTable t, Bio bio) {
        long sector = bio.sector();
        long end = sector + bio.sectors();
        boolean extentOnly = bio.op() == BioOp.DISCARD || bio.op() == BioOp.WRITE_ZEROES;
        Io whole = new Io(status -> end(bio, null, status, PerThread.get()));
        long offset = 0;
        while (sector < end) {
            int i = t.findTarget(sector);
            Target target = t.targets[i];
            long len;
            if (extentOnly) {
                TableLine line = t.lines.get(i);
                len = Math.min(end - sector, line.start() + line.length() - sector);
                DmIo io = new DmIo(bio.op(), sector, len, whole);
                int copies = bio.op() == BioOp.DISCARD ? target.numDiscardBios() : target.numWriteZeroesBios();
                if (copies == 0) {
                    io.add();
                    io.dec(BlkStatus.notsupp(disk.name() + ": " + t.types[i].name() + " target does not support " + bio.op()));
                }
                for (int n = 0; n < copies; n++) {
                    Bio clone = bio.clone(offset, len << Units.SECTOR_SHIFT);
                    clone.setTargetBioNr(n);
                    map(t, i, clone, io);
                }
                io.dec(BlkStatus.OK);
            } else {
                len = Math.min(end - sector, t.maxIoLen(i, sector));
                DmIo io = new DmIo(bio.op(), sector, len, whole);
                map(t, i, bio.clone(offset, len << Units.SECTOR_SHIFT), io);
                io.dec(BlkStatus.OK);
            }
            sector += len;
            offset += len << Units.SECTOR_SHIFT;
        }
        whole.dec(BlkStatus.OK);
    }

    /** Sends one of the clones of {@code io}: its end is counted there. */
    private void map(DmTable t, int i, Bio clone, DmIo io) {
        Target target = t.targets[i];
        io.add();
        clone.setEndIo((c, status) -> {
            try {
                target.endIo(c, status);
            } finally {
                io.dec(status);
            }
        });
        dispatch(t, i, clone, io);
    }

    /**
     * The target maps the clone; a remapped clone goes to its new device. A clone the target took
     * starts {@code io}'s accounting (or, for a whole-bio clone, {@code io} null, keeps the
     * accounting its bio started with); a clone it killed is not counted (__map_bio's
     * DM_MAPIO_KILL never reaches dm_start_io_acct).
     */
    private void dispatch(DmTable t, int i, Bio clone, DmIo io) {
        MapResult result;
        String failure = null;
        try {
            result = t.targets[i].map(clone);
        } catch (RuntimeException e) {
            result = MapResult.KILL;
            failure = disk.name() + ": " + t.types[i].name() + " map failed: " + e;
        }
        if (result == MapResult.KILL) {
            if (io == null) TargetIo.unaccount(clone);
            clone.endio(BlkStatus.ioerr(failure != null ? failure
                    : disk.name() + ": " + t.types[i].name() + " target failed the I/O at sector " + clone.sector()));
            return;
        }
        if (io != null) io.account();
        if (result == MapResult.REMAPPED) {
            BlockDevice below = clone.device();
            if (below == null) clone.endio(BlkStatus.ioerr(disk.name() + ": " + t.types[i].name() + " remapped a bio to no device"));
            else below.submit(clone);
        }
    }

    /** A whole-bio clone its target killed: the bio's accounting and @stats are taken back, as never started. */
    void unaccount(Bio bio, DmStats.Aux aux) {
        disk.cancelIoAcct(bio);
        if (aux != null) stats.cancel(aux);
    }

    // ---- the DAX path ----

    /**
     * dm's dax_operations: find the live target for the page, clamp to it, and pass direct_access
     * down. Copies and flushes never come here: they go to the device that owns the memory.
     */
    private final class DaxOps implements DaxOperations {
        private DmTable table() {
            DmTable t = live;
            if (t == null || !t.dax) {
                throw new DaxException(Errno.EOPNOTSUPP, disk.name() + " (" + name + "): the live table is not DAX-capable");
            }
            return t;
        }

        private int target(DmTable t, long pgoff) {
            long sector = pgoff * Units.PAGE_SECTORS;
            if (pgoff < 0 || sector >= t.size) throw new DaxException(Errno.ERANGE, disk.name() + ": page " + pgoff + " is beyond the table");
            return t.findTarget(sector);
        }

        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            DmTable t = table();
            int i = target(t, pgoff);
            long len = t.maxIoLen(i, pgoff * Units.PAGE_SECTORS) / Units.PAGE_SECTORS;
            if (len < 1) throw new DaxException(Errno.EIO, disk.name() + ": page " + pgoff + " straddles a target boundary");
            long nr = Math.min(nrPages, len);
            t.targets[i].directAccess(pgoff, nr, map);
            map.clamp(nr);
        }
    }

    List<DeviceHandle> devicesOf(DmTable t) {
        return t == null ? List.of() : t.devices;
    }

    @Override
    public String toString() {
        return name + " (" + devt() + ")";
    }
}
