package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.dmstack.units.Units;

/**
 * What a DAX file system does with a DAX device (fs/dax.c), for byte ranges of the device:
 * read(2) and write(2) through direct_access plus the copies of the device that owns the memory,
 * stores through a mapping, and fsync, which writes back CPU caches only when the DAX write cache
 * is on.
 *
 * <p>Each call enters the device stack once (dax_read_lock, {@link DaxReadLock}) and walks the
 * range an extent at a time: one direct_access maps as much as the stack can give contiguously (to
 * the end of a dm target or stripe chunk, or all of a pmem range), then the owner of that memory
 * copies it. The mapping the walk fills and the read-side counter are the thread's own, reused:
 * nothing is allocated and no shared memory is written per call.
 */
public final class FsDax {
    private FsDax() {}

    private static final int READ = 0, WRITE = 1, STORE = 2, FSYNC = 3;

    /**
     * read(2) at byte {@code pos}: fills {@code iter} until it is full or the device ends. Stops
     * short at a media error and returns what was read.
     *
     * @throws DaxException when nothing could be read: EIO when direct_access refused the range (a
     *     bad block in it), EFAULT when the copy met poison at its first byte
     */
    public static long read(DaxDevice dax, long pos, IovIter iter) {
        return iterate(dax, pos, iter.count(), READ, iter, null);
    }

    /**
     * write(2) at byte {@code pos}: copies all of {@code iter} (up to the end of the device)
     * through copy_from_iter, which on a device with a DAX write cache is durable on return. Where
     * direct_access refuses a range with a media error, it maps again in recovery mode
     * ({@link DaxMapping#recovery()}): the driver's copy repairs whole bad pages, and stops (EFAULT
     * when nothing was written) at a bad page it cannot repair.
     *
     * @throws DaxException EROFS on a read-only device, before anything is written
     */
    public static long write(DaxDevice dax, long pos, IovIter iter) {
        refuseReadOnly(dax);
        return iterate(dax, pos, iter.count(), WRITE, iter, null);
    }

    /**
     * Stores {@code src} at byte {@code pos} through a mapping (plain CPU stores, as a program
     * writing to an mmap of a DAX file), then writes the range back (dax_flush, which does
     * nothing when the DAX write cache is off).
     *
     * @throws DaxException EROFS on a read-only device, before anything is stored
     */
    public static long store(DaxDevice dax, long pos, MemorySegment src) {
        refuseReadOnly(dax);
        return iterate(dax, pos, src.byteSize(), STORE, null, src);
    }

    /**
     * fsync/msync of {@code [pos, pos + len)}: writes back CPU caches for the range
     * (dax_writeback_mapping_range); nothing at all when the DAX write cache is off.
     */
    public static void fsync(DaxDevice dax, long pos, long len) {
        if (!dax.writeCache()) return;
        iterate(dax, pos, len, FSYNC, null, null);
    }

    /** A DAX file system on a read-only disk is mounted read-only: writes fail with EROFS, reads go on. */
    private static void refuseReadOnly(DaxDevice dax) {
        if (dax.readOnly()) throw new DaxException(Errno.EROFS, dax.name() + ": Read-only file system");
    }

    private static long iterate(DaxDevice dax, long pos, long length, int op, IovIter iter, MemorySegment src) {
        if (pos < 0 || length < 0) throw new DaxException(Errno.EINVAL, dax.name() + ": negative position or length");
        DaxReadLock.Reader reader = DaxReadLock.reader();
        DaxMapping map = reader.mapping;
        // A walk inside a walk on the same thread (an iterator whose copy does DAX) needs its own.
        if (map.inOperation) map = new DaxMapping(reader);
        int section = reader.lock();
        map.inOperation = true;
        try {
            return walk(dax, pos, length, op, iter, src, map);
        } finally {
            map.inOperation = false;
            reader.unlock(section);
        }
    }

    // The walk is kept under the JIT's size for inlining a hot method (FreqInlineSize, 325 bytes of
    // bytecode), so that it is compiled into the call: what is rare (a media error, stores, fsync)
    // is in methods of its own. A 4 KiB read pays for every instruction between two copies.
    private static long walk(DaxDevice dax, long pos, long length, int op, IovIter iter, MemorySegment src, DaxMapping map) {
        long end = Math.min(pos + length, dax.pages() << Units.PAGE_SHIFT);
        long done = 0;
        while (pos + done < end) {
            long at = pos + done;
            long offset = at & (Units.PAGE_SIZE - 1);
            long want = end - at;
            long pgoff = at >>> Units.PAGE_SHIFT, nrPages = (offset + want + Units.PAGE_SIZE - 1) >>> Units.PAGE_SHIFT;
            try {
                dax.directAccessHeld(pgoff, nrPages, map);
            } catch (DaxException e) {
                DaxException failed = op == WRITE ? recover(dax, pgoff, nrPages, map, e) : e;
                if (failed != null) {
                    if (done > 0) return done;
                    throw failed;
                }
            }
            long len = Math.min(map.bytes() - offset, want);
            DaxDevice owner = map.owner;
            long moved = switch (op) {
                case READ -> owner.copyToIterHeld(map, offset, len, iter);
                case WRITE -> owner.copyFromIterHeld(map, offset, len, iter);
                default -> storeOrFlush(dax, owner, op, map, offset, len, src, done);
            };
            done += moved;
            if (moved < len) {
                // dax_iomap_iter: a copy that moved nothing is EFAULT when nothing was done before it.
                if (done == 0) throw mediaError(dax, at);
                break;
            }
        }
        return done;
    }

    /**
     * dax_iomap_iter: a write(2) that meets a media error maps again for a recovery write. Returns
     * null when that mapped, else the error to report.
     */
    private static DaxException recover(DaxDevice dax, long pgoff, long nrPages, DaxMapping map, DaxException e) {
        if (e.errno() != Errno.EIO) return e;
        map.recovery = true;
        try {
            dax.directAccessHeld(pgoff, nrPages, map);
            return null;
        } catch (DaxException again) {
            return again;
        } finally {
            map.recovery = false;
        }
    }

    /** A store through the mapping (written back when the DAX write cache is on), or fsync's write-back of the range. */
    private static long storeOrFlush(DaxDevice dax, DaxDevice owner, int op, DaxMapping map, long offset, long len, MemorySegment src, long done) {
        if (op == STORE) {
            Memory.copy(src, done, map.memory(), map.offset() + offset, len);
            if (dax.writeCache()) owner.flushHeld(map, offset, len);
        } else {
            owner.flushHeld(map, offset, len);
        }
        return len;
    }

    private static DaxException mediaError(DaxDevice dax, long at) {
        return new DaxException(Errno.EFAULT, dax.name() + ": media error at byte " + at);
    }
}
