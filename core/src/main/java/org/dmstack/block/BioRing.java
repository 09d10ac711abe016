package org.dmstack.block;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Many bios in flight from one thread, without a thread, a future or an allocation per bio: a
 * submission queue and a completion ring, as io_uring has them (and blk_plug's batching).
 *
 * <pre>{@code
 * BioRing ring = new BioRing(128);                 // at most 128 bios in flight
 * for (Bio bio : bios) ring.queue(device, bio);   // collected, not yet sent
 * ring.submit();                                  // sent down together
 * Bio done;
 * while ((done = ring.take()) != null) {          // waits for the next completion
 *     check(done.await());                        // its status; done is free again:
 *     ring.queue(device, done.reset(BioOp.READ, nextSector(), done.data()));
 *     ring.submit();
 * }
 * }</pre>
 *
 * <p>A queued bio's end callback is the ring: when it ends, on whatever thread ends it, it is put
 * in the completion ring, in the order bios end; the owner reaps them with {@link #poll()} (never
 * waits), {@link #take()} (waits) or {@link #reap(Bio[])} (all there are). Bios ended on the
 * owner's own thread (a device that completes a bio at once, in {@link #submit()}) go to a ring
 * of their own that no other thread touches, without an atomic instruction, and are reaped
 * before those other threads ended. A ring holds at most
 * {@code entries} bios between {@link #queue} and reaping, so a completion always has a place:
 * queuing one more is refused ({@link IllegalStateException}, nothing changes), as io_uring
 * refuses submissions that could overflow its completion queue.
 *
 * <p>{@link #submit()} is also a plug (Linux's blk_plug): while it sends the queued bios down, a
 * driver that meets one of them may ask to do a piece of work once for the whole batch instead of
 * once per bio ({@link #onUnplug}, blk_check_plugged); device-mapper enters a mapped device once
 * per batch that way, with one memory fence instead of one per bio.
 *
 * <p>One thread owns the ring (queues, submits, reaps); any thread may end its bios.
 */
public final class BioRing implements Bio.EndIo {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Bio[].class);
    private static final VarHandle TAIL;

    static {
        try {
            TAIL = MethodHandles.lookup().findVarHandle(BioRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int entries;
    private final Bio[] completed; // a power of two at least entries long
    private final int mask;
    private final Bio[] queued;
    private final BlockDevice[] queuedTo;
    private int queuedCount;
    private int held; // queued, in flight or completed and not reaped
    private long head; // next slot to reap (owner only)
    @SuppressWarnings("unused") // through TAIL
    private volatile long tail; // next slot an ending bio takes
    private volatile Thread waiter;
    /** The thread that submits (the owner); bios it ends itself go to {@code local}. */
    private Thread owner;
    private final Bio[] local; // same size as completed; owner only
    private int localHead;
    private int localTail;
    private boolean plugged; // inside submit (owner only)
    private Runnable[] unplugs = new Runnable[2]; // owner only
    private int unplugCount;

    /** A ring for at most {@code entries} bios at a time (1 to 2^20). */
    public BioRing(int entries) {
        if (entries < 1 || entries > 1 << 20) throw new IllegalArgumentException("entries must be 1 to " + (1 << 20) + ", not " + entries);
        this.entries = entries;
        int size = 1;
        while (size < entries) size <<= 1;
        this.completed = new Bio[size];
        this.local = new Bio[size];
        this.mask = size - 1;
        this.queued = new Bio[entries];
        this.queuedTo = new BlockDevice[entries];
    }

    /** How many bios the ring may hold at once. */
    public int entries() {
        return entries;
    }

    /** Bios queued, in flight, or ended and not yet reaped. */
    public int held() {
        return held;
    }

    /** Bios queued and not yet submitted. */
    public int queued() {
        return queuedCount;
    }

    /**
     * Queues {@code bio} for {@code device} (it is sent by {@link #submit()}); its end callback
     * becomes this ring.
     *
     * @throws IllegalStateException when the ring already holds {@link #entries()} bios: reap first
     */
    public void queue(BlockDevice device, Bio bio) {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(bio, "bio");
        if (held == entries) throw new IllegalStateException("the ring is full: " + entries + " bios queued, in flight or not reaped");
        bio.setEndIo(this);
        queued[queuedCount] = bio;
        queuedTo[queuedCount++] = device;
        held++;
    }

    /**
     * Sends every queued bio down, in the order queued, then runs what drivers asked to run at the
     * end of the batch ({@link #onUnplug}); returns how many bios it sent.
     */
    public int submit() {
        owner = Thread.currentThread();
        int n = queuedCount;
        queuedCount = 0;
        plugged = true;
        try {
            for (int i = 0; i < n; i++) {
                Bio bio = queued[i];
                BlockDevice device = queuedTo[i];
                queued[i] = null;
                queuedTo[i] = null;
                device.submit(bio);
            }
        } finally {
            plugged = false;
            unplug();
        }
        return n;
    }

    /** blk_flush_plug: the batch is sent; each unplug callback runs once, in the order registered. */
    private void unplug() {
        // Run even when one throws: a driver's batch left open would never close.
        RuntimeException failed = null;
        for (int i = 0; i < unplugCount; i++) {
            Runnable r = unplugs[i];
            unplugs[i] = null;
            try {
                r.run();
            } catch (RuntimeException e) {
                if (failed == null) failed = e;
                else failed.addSuppressed(e);
            }
        }
        unplugCount = 0;
        if (failed != null) throw failed;
    }

    /** Whether the calling thread is inside this ring's {@link #submit()}: the bios it sends are one batch. */
    boolean plugging() {
        return plugged && owner == Thread.currentThread();
    }

    /**
     * Has {@code unplug} run once when the batch that {@link #submit()} is sending ends, on this
     * thread, before submit returns (blk_check_plugged): for a driver that takes something once per
     * batch and gives it back there. Call it only while sending one of this ring's bios
     * ({@link Bio#plug()} returned this ring); the driver registers each callback once per batch.
     *
     * @throws IllegalStateException outside this ring's submit, or on another thread
     */
    public void onUnplug(Runnable unplug) {
        Objects.requireNonNull(unplug, "unplug");
        if (!plugging()) throw new IllegalStateException("not inside this ring's submit on this thread");
        if (unplugCount == unplugs.length) unplugs = Arrays.copyOf(unplugs, unplugCount * 2);
        unplugs[unplugCount++] = unplug;
    }

    /** Called by {@link Bio#endio} on the thread that ends a queued bio: it joins the completion ring. */
    @Override
    public void endio(Bio bio, BlkStatus status) {
        if (Thread.currentThread() == owner) {
            // Never overwrites, as below; the owner reaps it, so plain stores do.
            local[localTail++ & mask] = bio;
            return;
        }
        long slot = (long) TAIL.getAndAdd(this, 1L);
        // Never overwrites: at most entries bios are held, so this slot was reaped or never used.
        SLOT.setVolatile(completed, (int) slot & mask, bio);
        Thread w = waiter;
        if (w != null) LockSupport.unpark(w);
    }

    /** The next bio that ended (its status is {@link Bio#await()}), or null when none has. */
    public Bio poll() {
        if (localHead != localTail) {
            int i = localHead++ & mask;
            Bio bio = local[i];
            local[i] = null;
            held--;
            return bio;
        }
        int i = (int) head & mask;
        Bio bio = (Bio) SLOT.getVolatile(completed, i);
        if (bio == null) return null;
        SLOT.setRelease(completed, i, null);
        head++;
        held--;
        return bio;
    }

    /** Moves the bios that have ended into {@code out}, up to its length; returns how many. */
    public int reap(Bio[] out) {
        int n = 0;
        Bio bio;
        while (n < out.length && (bio = poll()) != null) out[n++] = bio;
        return n;
    }

    /**
     * The next bio that ended, waiting for one; null when the ring holds no bio that was submitted
     * (nothing could ever end). Submit queued bios first: they are not waited for.
     *
     * @throws InterruptedException when the thread is interrupted while waiting
     */
    public Bio take() throws InterruptedException {
        return take(Long.MAX_VALUE);
    }

    /** As {@link #take()}, waiting at most {@code timeout}; null when none ended in that time. */
    public Bio poll(long timeout, TimeUnit unit) throws InterruptedException {
        return take(unit.toNanos(timeout));
    }

    private Bio take(long nanos) throws InterruptedException {
        Bio bio = poll();
        if (bio != null || held - queuedCount == 0) return bio;
        long deadline = System.nanoTime() + nanos;
        waiter = Thread.currentThread();
        try {
            // waiter is set before looking again: an ending bio either is seen here or sees the waiter.
            while ((bio = poll()) == null) {
                if (Thread.interrupted()) throw new InterruptedException();
                long left = deadline - System.nanoTime();
                if (left <= 0) return null;
                LockSupport.parkNanos(this, left);
            }
            return bio;
        } finally {
            waiter = null;
        }
    }
}
