package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;

/**
 * What a DAX file system does with a DAX device (fs/dax.c), for byte ranges of the device:
 * read(2) and write(2) through direct_access plus the device's copies, stores through a
 * mapping, and fsync, which writes back CPU caches only when the DAX write cache is on.
 */
public final class FsDax {
    private FsDax() {}

    private interface Step {
        /** Moves up to {@code len} bytes at {@code kaddr}; returns how many it moved. */
        long apply(long pgoff, MemorySegment kaddr, long len);
    }

    /**
     * read(2) at byte {@code pos}: fills {@code iter} until it is full or the device ends. Stops
     * short at a media error and returns what was read.
     *
     * @throws DaxException when nothing could be read (EIO at a media error)
     */
    public static long read(DaxDevice dax, long pos, IovIter iter) {
        return iterate(dax, pos, iter.count(), (pgoff, kaddr, len) -> dax.copyToIterHeld(pgoff, kaddr, len, iter));
    }

    /**
     * write(2) at byte {@code pos}: copies all of {@code iter} (up to the end of the device)
     * through copy_from_iter, which on a device with a DAX write cache is durable on return.
     */
    public static long write(DaxDevice dax, long pos, IovIter iter) {
        return iterate(dax, pos, iter.count(), (pgoff, kaddr, len) -> dax.copyFromIterHeld(pgoff, kaddr, len, iter));
    }

    /**
     * Stores {@code src} at byte {@code pos} through a mapping (plain CPU stores, as a program
     * writing to an mmap of a DAX file), then writes the range back (dax_flush, which does
     * nothing when the DAX write cache is off).
     */
    public static long store(DaxDevice dax, long pos, MemorySegment src) {
        long[] from = {0};
        return iterate(dax, pos, src.byteSize(), (pgoff, kaddr, len) -> {
            Memory.copy(src, from[0], kaddr, 0, len);
            dax.flushHeld(pgoff, kaddr, len);
            from[0] += len;
            return len;
        });
    }

    /**
     * fsync/msync of {@code [pos, pos + len)}: writes back CPU caches for the range
     * (dax_writeback_mapping_range); nothing at all when the DAX write cache is off.
     */
    public static void fsync(DaxDevice dax, long pos, long len) {
        if (!dax.writeCache()) return;
        iterate(dax, pos, len, (pgoff, kaddr, n) -> {
            dax.flushHeld(pgoff, kaddr, n);
            return n;
        });
    }

    /**
     * Walks {@code [pos, pos + length)} a direct_access at a time, with the device entered once for
     * the whole walk (dax_read_lock), so the steps use the device's held calls.
     */
    private static long iterate(DaxDevice dax, long pos, long length, Step step) {
        if (pos < 0 || length < 0) throw new DaxException(Errno.EINVAL, dax.name() + ": negative position or length");
        dax.enter();
        try {
            return walk(dax, pos, length, step);
        } finally {
            dax.exit();
        }
    }

    private static long walk(DaxDevice dax, long pos, long length, Step step) {
        long end = Math.min(pos + length, dax.pages() << Units.PAGE_SHIFT);
        long done = 0;
        while (pos + done < end) {
            long at = pos + done;
            long pgoff = at >>> Units.PAGE_SHIFT;
            long offset = at & (Units.PAGE_SIZE - 1);
            long want = end - at;
            DaxMapping map;
            try {
                map = dax.directAccessHeld(pgoff, (offset + want + Units.PAGE_SIZE - 1) >>> Units.PAGE_SHIFT);
            } catch (DaxException e) {
                if (done > 0) return done;
                throw e;
            }
            long len = Math.min((map.pages() << Units.PAGE_SHIFT) - offset, want);
            long moved = step.apply(pgoff, map.kaddr().asSlice(offset, len), len);
            done += moved;
            if (moved < len) {
                if (done == 0) throw new DaxException(Errno.EIO, dax.name() + ": media error at byte " + at);
                break;
            }
        }
        return done;
    }
}
