package org.dmstack.nbd;

import static org.dmstack.nbd.protocol.Nbd.CMD_READ;
import static org.dmstack.nbd.protocol.Nbd.CMD_WRITE;
import static org.dmstack.nbd.protocol.Nbd.MAX_PAYLOAD;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A READ or WRITE in flight. Its buffer is split at the device's max_sectors, as the block
 * layer splits a bio, and every part is submitted at once. The last part to end finishes the
 * request: a FUA write to a device without FUA first sends the FLUSH after it (as Linux's flush
 * machinery does); then the reply (the error of the first part that failed, by offset) and the
 * permit goes back.
 *
 * <p>Finishing runs where the last bio ended when that is the thread that submitted it (a RAM
 * disk completes at once: no thread in between); otherwise on a new virtual thread, so a thread
 * that is not ours (a mapped device letting held bios go) never waits for this client's socket.
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

    private final Request r;
    private final Permit permit;
    private final MemorySegment data;
    private final Replies replies;
    private final Thread submitter = Thread.currentThread();
    private BlockDevice device;
    private boolean flushAfter;
    private volatile int remaining;
    private BlkStatus failed; // the failure at the lowest offset, under this object's lock
    private long failedOffset;

    private ReadWrite(Request r, Permit permit, Replies replies) {
        this.r = r;
        this.permit = permit;
        this.data = permit.buffer(r.length());
        this.replies = replies;
    }

    /**
     * Submits a checked READ or WRITE of at least one block to {@code d}; a WRITE's payload is
     * already in the permit's buffer. The request owns {@code permit} from here on.
     */
    static void submit(BlockDevice d, Request r, Permit permit, Replies replies) {
        new ReadWrite(r, permit, replies).submit(d);
    }

    private void submit(BlockDevice d) {
        boolean write = r.type() == CMD_WRITE;
        boolean fua = write && r.fua() && d.writeCache();
        device = d;
        flushAfter = fua && !d.fua();
        long sector = r.offset() >>> Units.SECTOR_SHIFT;
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
                d.submit(bio);
            } catch (RuntimeException e) {
                LOG.error("{}: {} failed", d.name(), r.command(), e);
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
            device.submit(flush);
            return;
        }
        if (Thread.currentThread() == submitter) finish();
        else Thread.ofVirtual().name("nbd-reply").start(this::finish);
    }

    private synchronized BlkStatus failed() {
        return failed;
    }

    /** Replies; the permit (and with it the data) goes back once the reply is out. */
    private void finish() {
        try {
            BlkStatus s = failed();
            if (s != null) replies.status(r, s, permit);
            else replies.ok(r, r.type() == CMD_READ ? data.asByteBuffer() : null, permit);
        } catch (RuntimeException e) {
            LOG.error("{} failed", r.command(), e);
            permit.close();
        }
    }

    /** The largest bio for {@code d}: its max_sectors, whole logical blocks, at most the payload limit. */
    static long maxBytes(BlockDevice d) {
        QueueLimits l = d.limits();
        long max = Math.min(l.maxSectors(), (long) MAX_PAYLOAD >>> Units.SECTOR_SHIFT) << Units.SECTOR_SHIFT;
        max &= -(long) l.logicalBlockSize();
        return Math.max(max, l.logicalBlockSize());
    }
}
