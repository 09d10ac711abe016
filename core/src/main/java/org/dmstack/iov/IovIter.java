package org.dmstack.iov;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * An iterator over the memory on the far side of a copy, as Linux's struct iov_iter: caller
 * buffers (IOVEC), kernel buffers (KVEC), page-like segments (BVEC) or a pipe (PIPE). It
 * remembers how much is left ({@link #count()}) and where the next byte goes or comes from.
 *
 * <p>The copy helpers are named from the kernel's side, as in lib/iov_iter.c:
 * {@link #copyToIter} moves bytes from a buffer into the iterator (a read), {@link #copyFromIter}
 * moves bytes out of the iterator into a buffer (a write). Each returns how many bytes it moved
 * and advances the iterator by that much.
 */
public abstract class IovIter {
    public enum Kind {
        IOVEC,
        KVEC,
        BVEC,
        PIPE
    }

    private final Kind kind;

    IovIter(Kind kind) {
        this.kind = kind;
    }

    /** An IOVEC over caller buffers (byte arrays), in order. */
    public static IovIter iovec(byte[]... buffers) {
        // Built straight into the iterator's array: read(2) and write(2) make one per call.
        MemorySegment[] segments = new MemorySegment[buffers.length];
        for (int i = 0; i < buffers.length; i++) segments[i] = MemorySegment.ofArray(buffers[i]);
        return new SegmentIter(Kind.IOVEC, segments);
    }

    /** A KVEC over memory segments, in order. */
    public static IovIter kvec(MemorySegment... segments) {
        for (MemorySegment s : segments) Objects.requireNonNull(s, "segment");
        return new SegmentIter(Kind.KVEC, segments.clone());
    }

    /** A BVEC over page-like segments (a page and a range inside it), in order. */
    public static IovIter bvec(BioVec... vecs) {
        MemorySegment[] segments = new MemorySegment[vecs.length];
        for (int i = 0; i < vecs.length; i++) segments[i] = vecs[i].page().asSlice(vecs[i].offset(), vecs[i].length());
        return new SegmentIter(Kind.BVEC, segments);
    }

    /** A PIPE iterator: copies append page buffers to {@code pipe}, at most {@code bytes} of them. */
    public static IovIter pipe(Pipe pipe, long bytes) {
        return new PipeIter(pipe, bytes);
    }

    public final Kind kind() {
        return kind;
    }

    /** Bytes left to copy. */
    public abstract long count();

    /** Skips {@code bytes} bytes. */
    public abstract void advance(long bytes);

    /** Steps back {@code bytes} bytes (undoing part of the last copies). */
    public abstract void revert(long bytes);

    /** copy_to_iter: copies up to {@code bytes} bytes from {@code src} into the iterator. A poisoned source is a machine check. */
    public final long copyToIter(MemorySegment src, long bytes) {
        return copyToIter(src, 0, bytes);
    }

    /** copy_to_iter from byte {@code offset} of {@code src}. */
    public final long copyToIter(MemorySegment src, long offset, long bytes) {
        return copyIn(src, offset, Math.min(bytes, count()), false);
    }

    /**
     * copy_to_iter_mcsafe: like {@link #copyToIter}, but stops at the first poisoned cache line of
     * the source and returns the short count; exactly the bytes before it are delivered.
     */
    public final long copyToIterMcsafe(MemorySegment src, long bytes) {
        return copyToIterMcsafe(src, 0, bytes);
    }

    /** copy_to_iter_mcsafe from byte {@code offset} of {@code src}. */
    public final long copyToIterMcsafe(MemorySegment src, long offset, long bytes) {
        return copyIn(src, offset, Math.min(bytes, count()), true);
    }

    /** copy_from_iter: copies up to {@code bytes} bytes from the iterator into {@code dst}. */
    public final long copyFromIter(MemorySegment dst, long bytes) {
        return copyFromIter(dst, 0, bytes);
    }

    /** copy_from_iter to byte {@code offset} of {@code dst}. */
    public final long copyFromIter(MemorySegment dst, long offset, long bytes) {
        return copyOut(dst, offset, Math.min(bytes, count()), false);
    }

    /** copy_from_iter_flushcache: like {@link #copyFromIter}, and the bytes are durable in {@code dst} on return. */
    public final long copyFromIterFlushcache(MemorySegment dst, long bytes) {
        return copyFromIterFlushcache(dst, 0, bytes);
    }

    /** copy_from_iter_flushcache to byte {@code offset} of {@code dst}. */
    public final long copyFromIterFlushcache(MemorySegment dst, long offset, long bytes) {
        return copyOut(dst, offset, Math.min(bytes, count()), true);
    }

    // Offsets instead of slices: a DAX copy goes to a place in a device's memory, and a slice per
    // copy would be an object per call.
    abstract long copyIn(MemorySegment src, long srcOffset, long bytes, boolean mcsafe);

    abstract long copyOut(MemorySegment dst, long dstOffset, long bytes, boolean flushcache);

    @Override
    public String toString() {
        return kind + " iter, " + count() + " bytes left";
    }
}
