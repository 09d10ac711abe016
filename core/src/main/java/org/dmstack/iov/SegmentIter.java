package org.dmstack.iov;

import java.lang.foreign.MemorySegment;
import org.dmstack.memory.Memory;

/** IOVEC, KVEC and BVEC: a list of segments, a position in it, and a count. */
final class SegmentIter extends IovIter {
    private final MemorySegment[] segments;
    private int index;
    private long offset; // in segments[index]
    private long count;

    /** @param segments the iterator's own array (not copied) */
    SegmentIter(Kind kind, MemorySegment[] segments) {
        super(kind);
        this.segments = segments;
        for (MemorySegment s : this.segments) count += s.byteSize();
        skipEmpty();
    }

    @Override
    public long count() {
        return count;
    }

    @Override
    public void advance(long bytes) {
        if (bytes < 0 || bytes > count) throw new IllegalArgumentException("advance(" + bytes + ") with " + count + " bytes left");
        count -= bytes;
        while (bytes > 0) {
            long n = Math.min(bytes, segments[index].byteSize() - offset);
            offset += n;
            bytes -= n;
            skipEmpty();
        }
    }

    @Override
    public void revert(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("revert(" + bytes + ")");
        while (bytes > 0) {
            if (offset == 0) {
                if (index == 0) throw new IllegalArgumentException("revert past the start of the iterator");
                offset = segments[--index].byteSize();
                continue;
            }
            long n = Math.min(bytes, offset);
            offset -= n;
            bytes -= n;
            count += n;
        }
    }

    private void skipEmpty() {
        while (index < segments.length && offset == segments[index].byteSize()) {
            if (index == segments.length - 1) return;
            index++;
            offset = 0;
        }
    }

    @Override
    long copyIn(MemorySegment src, long srcOffset, long bytes, boolean mcsafe) {
        long done = 0;
        while (done < bytes) {
            MemorySegment seg = segments[index];
            long n = Math.min(bytes - done, seg.byteSize() - offset);
            long copied;
            if (mcsafe) {
                copied = Memory.copyMcsafe(src, srcOffset + done, seg, offset, n);
            } else {
                Memory.copy(src, srcOffset + done, seg, offset, n);
                copied = n;
            }
            moved(seg, copied);
            done += copied;
            if (copied < n) break;
        }
        return done;
    }

    /** Steps past {@code bytes} just copied inside the current segment {@code seg}: advance() without its walk. */
    private void moved(MemorySegment seg, long bytes) {
        offset += bytes;
        count -= bytes;
        if (offset == seg.byteSize()) skipEmpty();
    }

    @Override
    long copyOut(MemorySegment dst, long dstOffset, long bytes, boolean flushcache) {
        long done = 0;
        while (done < bytes) {
            MemorySegment seg = segments[index];
            long n = Math.min(bytes - done, seg.byteSize() - offset);
            Memory.copy(seg, offset, dst, dstOffset + done, n);
            moved(seg, n);
            done += n;
        }
        // One writeback for the whole destination range, not one per source segment.
        if (flushcache) Memory.writeback(dst, dstOffset, done);
        return done;
    }
}
