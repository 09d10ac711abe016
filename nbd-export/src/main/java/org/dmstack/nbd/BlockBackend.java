package org.dmstack.nbd;

import static org.dmstack.nbd.protocol.Nbd.EINVAL;
import static org.dmstack.nbd.protocol.Nbd.EIO;
import static org.dmstack.nbd.protocol.Nbd.MAX_PAYLOAD;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BdevHandle;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.GenDisk;
import org.dmstack.block.Holes;
import org.dmstack.block.InPlaceRead;
import org.dmstack.block.QueueLimits;
import org.dmstack.nbd.server.Backend;
import org.dmstack.units.Units;

/**
 * A block device as the NBD server's {@link Backend}: requests become bios. A READ or WRITE is
 * split at max_sectors ({@link ReadWrite}); FLUSH, TRIM and WRITE_ZEROES wait for their bios.
 *
 * <p>Once {@link #withdraw withdrawn} (the device left the registry, or nbd-export is stopping
 * because core is being updated) it turns new requests down, so the server holds them for the
 * device that comes back. A request it had submitted ends as the device ends it: done, and
 * acknowledged; or, when it fails after the withdrawal (the device torn down under it, as Linux
 * fails the bios of a disk deleted under them), it is given back to the server unfinished
 * ({@link Backend#WITHDRAWN}) and sent again to the device that returns. Nothing is
 * acknowledged unless it was done, and a device going away never shows a client an error.
 *
 * <p>Withdrawing waits for submissions under way (not for their bios to end): once it returns,
 * no bio reaches the device from here, so the driver tearing it down next fails or finishes
 * every bio it was given. A bio handed to a mapped device after its removal had failed its
 * deferred ones would wait for ever.
 */
public final class BlockBackend implements Backend {
    private static final MemorySegment ZEROES = Arena.global().allocate(1 << 20);

    /** How long withdrawing waits for submissions under way; they do not wait for I/O, so this is a safety net. */
    static final Duration SUBMIT_LIMIT = Duration.ofSeconds(1);

    private final BlockDevice d;
    private final BlockDeviceRegistry registry;
    private final InPlaceRead inPlace;
    private final Holes holes;
    private volatile boolean withdrawn;
    private final AtomicInteger submitting = new AtomicInteger();

    /** A backend whose clients do not open the device (it is in no registry: plain Java, tests). */
    public BlockBackend(BlockDevice device) {
        this(device, null);
    }

    /** A backend each of whose clients opens {@code device} in {@code registry} for its session (see {@link #open}). */
    public BlockBackend(BlockDevice device, BlockDeviceRegistry registry) {
        this.d = device;
        this.registry = registry;
        this.inPlace = device instanceof GenDisk g ? g.inPlaceRead() : null;
        this.holes = device instanceof GenDisk g ? g.holes() : null;
    }

    public BlockDevice device() {
        return d;
    }

    /**
     * From now on, requests are turned down, and those in flight that fail are given back
     * unfinished. Returns once no submission to the device is under way.
     */
    public void withdraw() {
        withdrawn = true;
        long deadline = System.nanoTime() + SUBMIT_LIMIT.toNanos();
        while (submitting.get() > 0 && System.nanoTime() < deadline) LockSupport.parkNanos(50_000);
    }

    /**
     * Submits {@code bio} unless withdrawn; false when withdrawn (the bio is not submitted). The
     * flag is read after announcing the submission, so {@link #withdraw} either sees it or
     * this sees the flag.
     */
    boolean submit(Bio bio) {
        submitting.incrementAndGet();
        try {
            if (withdrawn) return false;
            d.submit(bio);
            return true;
        } finally {
            submitting.decrementAndGet();
        }
    }

    /**
     * Opens the device for one client's session (blkdev_get_by_dev, as nbd-server's open(2) of
     * its export): it counts among the device's openers, and a mapped device is busy, until the
     * session ends. A device already withdrawn is not opened: the server opens the backend that
     * replaces it.
     */
    @Override
    public Opened open(String client) {
        if (registry == null || withdrawn) return () -> {};
        BdevHandle h;
        try {
            h = registry.open(d, client);
        } catch (IllegalStateException gone) {
            return () -> {};
        }
        return h::close;
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

    /** A disk made read-only (a pmem disk of a region with an unarmed NVDIMM) takes no writes. */
    @Override
    public boolean readOnly() {
        return d instanceof GenDisk g && g.readOnly();
    }

    @Override
    public boolean read(long offset, MemorySegment into, Done done) {
        if (withdrawn) return false;
        ReadWrite.submit(this, false, offset, into, false, done);
        return true;
    }

    /**
     * The device's memory when its driver lends it (brd: {@link InPlaceRead}), as a withdrawal
     * allows a submission: never once withdrawn. Anything else, or a failure, and the READ goes
     * as bios.
     */
    @Override
    public boolean pinForRead(long offset, long length, List<ByteBuffer> into) {
        if (inPlace == null) return false;
        int had = into.size();
        submitting.incrementAndGet();
        try {
            return !withdrawn && inPlace.pin(offset, length, m -> into.add(m.asByteBuffer()));
        } catch (RuntimeException e) {
            into.subList(had, into.size()).clear();
            return false; // the bio path meets the same trouble and says what it is
        } finally {
            submitting.decrementAndGet();
        }
    }

    @Override
    public void unpin() {
        inPlace.unpin();
    }

    /**
     * The device's holes when its driver tells them (brd: {@link Holes}); none for any other
     * device (a mapped device among them), nor once withdrawn: everything is data then, which is
     * never wrong.
     */
    @Override
    public long seekHole(long offset, long end) {
        return holes == null || withdrawn ? end : holes.seekHole(offset, end);
    }

    @Override
    public long seekData(long offset, long end) {
        return holes == null || withdrawn ? offset : holes.seekData(offset, end);
    }

    @Override
    public boolean write(long offset, MemorySegment from, boolean fua, Done done) {
        if (withdrawn) return false;
        ReadWrite.submit(this, true, offset, from, fua, done);
        return true;
    }

    @Override
    public boolean flush(Done done) {
        if (withdrawn) return false;
        end(run(Bio.flush()), done);
        return true;
    }

    /** A DISCARD bio; a device that cannot discard has done nothing wrong (TRIM is a hint). */
    @Override
    public boolean trim(long offset, long length, boolean fua, Done done) {
        if (withdrawn) return false;
        BlkStatus status = run(Bio.discard(offset >>> Units.SECTOR_SHIFT, length));
        if (status.code() == BlkStatus.Code.NOTSUPP) status = BlkStatus.OK;
        if (fua && d.writeCache()) status = andThen(status, Bio.flush());
        end(status, done);
        return true;
    }

    /** A WRITE_ZEROES bio; with NO_HOLE, or on a device without it, zero pages, as blkdev_issue_zeroout falls back. */
    @Override
    public boolean writeZeroes(long offset, long length, boolean fua, boolean noHole, Done done) {
        if (withdrawn) return false;
        long sector = offset >>> Units.SECTOR_SHIFT;
        fua = fua && d.writeCache();
        BlkStatus status = noHole ? BlkStatus.notsupp("NO_HOLE")
                : run(fua && d.fua() ? Bio.writeZeroes(sector, length, BioFlag.FUA) : Bio.writeZeroes(sector, length));
        if (status.code() == BlkStatus.Code.NOTSUPP) status = writeZeroPages(sector, length, fua && d.fua());
        if (fua && !d.fua()) status = andThen(status, Bio.flush());
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

    /**
     * Ends a request: a failure after the withdrawal, or from a disk its driver has withdrawn
     * (del_gendisk: it hands back what it did not do), is the device going away, so the request
     * goes back unfinished.
     */
    void end(BlkStatus status, Done done) {
        if (status.isOk()) done.done(0, null);
        else if (withdrawn || d instanceof GenDisk g && g.isDead()) done.done(WITHDRAWN, d.name() + " went away: " + status.message());
        else done.done(errno(status), status.message());
    }

    /** Submits and waits; a withdrawal before the submission is the device going away. */
    private BlkStatus run(Bio bio) {
        if (!submit(bio)) return BlkStatus.ioerr("withdrawn");
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
