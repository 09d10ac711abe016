package org.dmstack.nbd;

import static org.dmstack.nbd.protocol.Nbd.EINVAL;
import static org.dmstack.nbd.protocol.Nbd.EIO;
import static org.dmstack.nbd.protocol.Nbd.MAX_PAYLOAD;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.QueueLimits;
import org.dmstack.nbd.server.Backend;
import org.dmstack.units.Units;

/**
 * A block device as the NBD server's {@link Backend}: requests become bios. A READ or WRITE is
 * split at max_sectors ({@link ReadWrite}); FLUSH, TRIM and WRITE_ZEROES wait for their bios.
 *
 * <p>Once {@link #withdraw withdrawn} (the device left the registry, or nbd-export is stopping
 * because core is being updated) it turns new requests down, so the server holds them for the
 * device that comes back. As del_gendisk drains a queue, withdrawing waits for the requests
 * already submitted to end — done, or failed with the device's error — before the driver goes
 * on tearing the device down; none is acknowledged unless it was done.
 */
public final class BlockBackend implements Backend {
    private static final MemorySegment ZEROES = Arena.global().allocate(1 << 20);
    /** Set in {@link #state} once withdrawn; the rest counts requests in flight (blk_queue_enter's reference). */
    private static final long WITHDRAWN = Long.MIN_VALUE;
    /**
     * How long withdrawing waits for requests in flight. A bound, not Linux's forever: a device
     * whose bios only end after the thread withdrawing it moves on (a mapped device failing its
     * held bios on removal) must not deadlock its own removal.
     */
    static final Duration DRAIN_LIMIT = Duration.ofSeconds(5);

    private final BlockDevice d;
    private final AtomicLong state = new AtomicLong();

    public BlockBackend(BlockDevice device) {
        this.d = device;
    }

    public BlockDevice device() {
        return d;
    }

    /**
     * From now on, requests are turned down; returns once those in flight have ended (or after
     * {@link #DRAIN_LIMIT}).
     */
    public void withdraw() {
        long s;
        do {
            s = state.get();
            if (s < 0) return;
        } while (!state.compareAndSet(s, s | WITHDRAWN));
        long deadline = System.nanoTime() + DRAIN_LIMIT.toNanos();
        synchronized (state) {
            while (state.get() != WITHDRAWN) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return;
                try {
                    state.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Takes a reference for one request; false once withdrawn. */
    private boolean enter() {
        if (state.incrementAndGet() > 0) return true;
        exit();
        return false;
    }

    /** A request ended: the last one out after withdrawal wakes {@link #withdraw}. */
    void exit() {
        if (state.decrementAndGet() == WITHDRAWN) {
            synchronized (state) {
                state.notifyAll();
            }
        }
    }

    /** "ram0 (1:0)". */
    @Override
    public String description() {
        return d.name() + " (" + d.devt() + ")";
    }

    @Override
    public long size() {
        return d.sizeBytes();
    }

    @Override
    public int minBlockSize() {
        return d.limits().logicalBlockSize();
    }

    /** minimum_io_size when it is a power of two, else the physical block size. */
    @Override
    public int preferredBlockSize() {
        QueueLimits limits = d.limits();
        long p = limits.physicalBlockSize();
        long ioMin = limits.ioMin();
        if (ioMin > p && Long.bitCount(ioMin) == 1) p = ioMin;
        p = Math.max(p, Math.max(limits.logicalBlockSize(), Units.SECTOR_SIZE));
        return (int) Math.min(p, MAX_PAYLOAD);
    }

    /** The queue's write cache ("write back"): without one every completed write is already durable. */
    @Override
    public boolean writeCache() {
        return d.writeCache();
    }

    @Override
    public boolean read(long offset, MemorySegment into, Done done) {
        if (!enter()) return false;
        ReadWrite.submit(this, false, offset, into, false, done);
        return true;
    }

    @Override
    public boolean write(long offset, MemorySegment from, boolean fua, Done done) {
        if (!enter()) return false;
        ReadWrite.submit(this, true, offset, from, fua, done);
        return true;
    }

    @Override
    public boolean flush(Done done) {
        if (!enter()) return false;
        BlkStatus status;
        try {
            status = run(Bio.flush());
        } finally {
            exit();
        }
        end(status, done);
        return true;
    }

    /** A DISCARD bio; a device that cannot discard has done nothing wrong (TRIM is a hint). */
    @Override
    public boolean trim(long offset, long length, boolean fua, Done done) {
        if (!enter()) return false;
        BlkStatus status;
        try {
            status = run(Bio.discard(offset >>> Units.SECTOR_SHIFT, length));
            if (status.code() == BlkStatus.Code.NOTSUPP) status = BlkStatus.OK;
            if (fua && d.writeCache()) status = andThen(status, Bio.flush());
        } finally {
            exit();
        }
        end(status, done);
        return true;
    }

    /** A WRITE_ZEROES bio; with NO_HOLE, or on a device without it, zero pages, as blkdev_issue_zeroout falls back. */
    @Override
    public boolean writeZeroes(long offset, long length, boolean fua, boolean noHole, Done done) {
        if (!enter()) return false;
        BlkStatus status;
        try {
            long sector = offset >>> Units.SECTOR_SHIFT;
            fua = fua && d.writeCache();
            status = noHole ? BlkStatus.notsupp("NO_HOLE")
                    : run(fua && d.fua() ? Bio.writeZeroes(sector, length, BioFlag.FUA) : Bio.writeZeroes(sector, length));
            if (status.code() == BlkStatus.Code.NOTSUPP) status = writeZeroPages(sector, length, fua && d.fua());
            if (fua && !d.fua()) status = andThen(status, Bio.flush());
        } finally {
            exit();
        }
        end(status, done);
        return true;
    }

    /** The protocol's error for a device's status. */
    static int errno(BlkStatus s) {
        return switch (s.code()) {
            case OK -> 0;
            case IOERR -> EIO;
            case INVAL, NOTSUPP -> EINVAL;
        };
    }

    static void end(BlkStatus status, Done done) {
        if (status.isOk()) done.done(0, null);
        else done.done(errno(status), status.message());
    }

    private BlkStatus run(Bio bio) {
        d.submit(bio);
        return bio.await();
    }

    private BlkStatus andThen(BlkStatus first, Bio next) {
        return first.isOk() ? run(next) : first;
    }

    private BlkStatus writeZeroPages(long sector, long length, boolean fua) {
        long chunk = Math.min(ZEROES.byteSize(), ReadWrite.maxBytes(d));
        chunk = Math.max(chunk & -(long) d.limits().logicalBlockSize(), d.limits().logicalBlockSize());
        for (long off = 0; off < length; off += chunk) {
            MemorySegment zeroes = ZEROES.asSlice(0, Math.min(chunk, length - off));
            long s = sector + (off >>> Units.SECTOR_SHIFT);
            BlkStatus st = run(fua ? Bio.write(s, zeroes, BioFlag.FUA) : Bio.write(s, zeroes));
            if (!st.isOk()) return st;
        }
        return BlkStatus.OK;
    }
}
