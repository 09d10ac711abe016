package org.dmstack.nbd;

import static org.dmstack.nbd.protocol.Nbd.MAX_PAYLOAD;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.QueueLimits;
import org.dmstack.nbd.server.Backend;
import org.dmstack.units.Units;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A READ or WRITE in flight. Its buffer is split at the device's max_sectors, as the block
 * layer splits a bio, and every part is submitted at once. The last part to end finishes the
 * request: a FUA write to a device without FUA first sends the FLUSH after it (as Linux's flush
 * machinery does); then the request is done, with the error of the first part that failed, by
 * offset. Done is called where the last bio ended: the server decides where its reply is written.
 */
final class ReadWrite implements Bio.EndIo {
    private static final Logger LOG = LoggerFactory.getLogger(ReadWrite.class);
    private static final VarHandle REMAINING;

    static {
        try {
            REMAINING = MethodHandles.lookup().findVarHandle(ReadWrite.class, "remaining", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final BlockBackend backend;
    private final MemorySegment data;
    private final Backend.Done done;
    private BlockDevice device;
    private boolean flushAfter;
    private volatile int remaining;
    private BlkStatus failed; // the failure at the lowest offset, under this object's lock
    private long failedOffset;

    private ReadWrite(BlockBackend backend, MemorySegment data, Backend.Done done) {
        this.backend = backend;
        this.data = data;
        this.done = done;
    }

    /**
     * Submits a checked READ (into {@code data}) or WRITE (of {@code data}) of at least one
     * block at byte {@code offset} of the backend's device; {@code done} when its last bio has ended.
     */
    static void submit(BlockBackend b, boolean write, long offset, MemorySegment data, boolean fua, Backend.Done done) {
        BlockDevice d = b.device();
        new ReadWrite(b, data, done).submit(d, write, offset, write && fua && d.writeCache());
    }

    private void submit(BlockDevice d, boolean write, long offset, boolean fua) {
        device = d;
        flushAfter = fua && !d.fua();
        long sector = offset >>> Units.SECTOR_SHIFT;
        long max = maxBytes(d);
        long length = data.byteSize();
        int parts = (int) ((length + max - 1) / max);
        remaining = parts;
        for (int i = 0; i < parts; i++) {
            long off = i * max;
            MemorySegment part = parts == 1 ? data : data.asSlice(off, Math.min(max, length - off));
            long s = sector + (off >>> Units.SECTOR_SHIFT);
            Bio bio = !write ? Bio.read(s, part) : fua && !flushAfter ? Bio.write(s, part, BioFlag.FUA) : Bio.write(s, part);
            bio.setEndIo(this);
            try {
                if (!backend.submit(bio)) bio.endio(BlkStatus.ioerr(d.name() + " was withdrawn"));
            } catch (RuntimeException e) {
                LOG.error("{}: {} failed", d.name(), write ? "write" : "read", e);
                bio.endio(BlkStatus.ioerr("internal error: " + e)); // no-op when the bio had already ended
            }
        }
    }

    /** A part ended. */
    @Override
    public void endio(Bio bio, BlkStatus status) {
        if (!status.isOk()) {
            long offset = bio.data().address() - data.address();
            synchronized (this) {
                if (failed == null || offset < failedOffset) {
                    failed = status;
                    failedOffset = offset;
                }
            }
        }
        if ((int) REMAINING.getAndAdd(this, -1) != 1) return;
        if (flushAfter && failed() == null) {
            flushAfter = false;
            Bio flush = Bio.flush();
            flush.setEndIo(this);
            remaining = 1;
            if (!backend.submit(flush)) flush.endio(BlkStatus.ioerr(device.name() + " was withdrawn"));
            return;
        }
        BlkStatus s = failed();
        backend.end(s == null ? BlkStatus.OK : s, done);
    }

    private synchronized BlkStatus failed() {
        return failed;
    }

    /** The largest bio for {@code d}: its max_sectors, whole logical blocks, at most the payload limit. */
    static long maxBytes(BlockDevice d) {
        QueueLimits l = d.limits();
        long max = Math.min(l.maxSectors(), (long) MAX_PAYLOAD >>> Units.SECTOR_SHIFT) << Units.SECTOR_SHIFT;
        max &= -(long) l.logicalBlockSize();
        return Math.max(max, l.logicalBlockSize());
    }
}
