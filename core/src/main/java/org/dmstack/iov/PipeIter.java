package org.dmstack.iov;

import java.lang.foreign.MemorySegment;
import org.dmstack.units.Units;
import org.dmstack.memory.Memory;

/**
 * ITER_PIPE: copies append to the pipe's page buffers. Like copy_pipe_to_iter_mcsafe, a
 * machine-check-safe copy fills buffers up to the poisoned cache line and reports the short
 * count, so a splice read of a file with a media error returns what it could read.
 */
final class PipeIter extends IovIter {
    private final Pipe pipe;
    private long count;

    PipeIter(Pipe pipe, long bytes) {
        super(Kind.PIPE);
        if (bytes < 0) throw new IllegalArgumentException("negative pipe iterator size");
        this.pipe = pipe;
        this.count = Math.min(bytes, pipe.freeSpace());
    }

    @Override
    public long count() {
        return count;
    }

    @Override
    public void advance(long bytes) {
        if (bytes < 0 || bytes > count) throw new IllegalArgumentException("advance(" + bytes + ") with " + count + " bytes left");
        // Advancing a pipe iterator leaves a hole of zeros, as pipe_advance does with fresh pages.
        long left = bytes;
        while (left > 0) {
            Pipe.Buffer b = pipe.tailWithRoom();
            int n = (int) Math.min(left, Units.PAGE_SIZE - b.length);
            b.page.asSlice(b.length, n).fill((byte) 0);
            b.length += n;
            left -= n;
        }
        count -= bytes;
    }

    @Override
    public void revert(long bytes) {
        pipe.truncate(bytes);
        count += bytes;
    }

    @Override
    long copyIn(MemorySegment src, long srcOffset, long bytes, boolean mcsafe) {
        long done = 0;
        while (done < bytes) {
            Pipe.Buffer b = pipe.tailWithRoom();
            if (b == null) break;
            int n = (int) Math.min(bytes - done, Units.PAGE_SIZE - b.length);
            long copied;
            if (mcsafe) {
                copied = Memory.copyMcsafe(src, srcOffset + done, b.page, b.length, n);
            } else {
                Memory.copy(src, srcOffset + done, b.page, b.length, n);
                copied = n;
            }
            b.length += (int) copied;
            done += copied;
            if (copied < n) {
                pipe.trimEmptyTail();
                break;
            }
        }
        count -= done;
        return done;
    }

    @Override
    long copyOut(MemorySegment dst, long dstOffset, long bytes, boolean flushcache) {
        // A pipe is only ever a destination (lib/iov_iter.c warns and copies nothing).
        throw new IllegalStateException("copy_from_iter on a pipe iterator: pipes can only be read into");
    }
}
