package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxMapping;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.dmstack.units.Units;

/**
 * The limit of a DAX stack: the bytes its read or write of {@code size} bytes at a position moves,
 * moved between the same buffer and the very same memory with no device in between, by the routines
 * the devices' copies end in ({@link Memory#copyMcsafe} for reads, {@link Memory#copy} for writes).
 * Where the stack's bytes lie is asked once, up front, through its own direct_access: one extent
 * per operation on pmem and dm-linear, one per stripe chunk on dm-stripe.
 *
 * <p>The same memory, not memory like it: two regions of this machine's memory, mapped from two
 * files, copy at speeds up to 15% apart (how the host backs them), so a raw copy over a region of
 * its own was no limit for a stack over another.
 */
final class RawCopy {
    /** How the raw copy moves an extent: in one call, a page at a time, or through the iterator as the stack's bottom does. */
    enum Kind {
        RAW,
        RAW_PAGES,
        RAW_ITER
    }

    final Kind kind;
    final int size;
    private final MemorySegment[] memory;
    private final long[] offset;
    private final long[] length;
    /** Operation i moves extents first[i] to first[i + 1] - 1. */
    private final int[] first;

    /** Maps every {@code size}-byte operation of the first {@code regionBytes} of {@code dax} (sizes are whole pages). */
    RawCopy(Kind kind, DaxDevice dax, long regionBytes, int size) {
        this.kind = kind;
        this.size = size;
        int ops = (int) (regionBytes / size);
        List<MemorySegment> memories = new ArrayList<>();
        List<long[]> extents = new ArrayList<>();
        first = new int[ops + 1];
        for (int i = 0; i < ops; i++) {
            first[i] = extents.size();
            long pos = (long) i * size, end = pos + size;
            while (pos < end) {
                DaxMapping map = dax.directAccess(pos >>> Units.PAGE_SHIFT, (end - pos) >>> Units.PAGE_SHIFT);
                long len = Math.min(map.bytes(), end - pos);
                memories.add(map.memory());
                extents.add(new long[] {map.offset(), len});
                pos += len;
            }
        }
        first[ops] = extents.size();
        memory = memories.toArray(MemorySegment[]::new);
        offset = extents.stream().mapToLong(e -> e[0]).toArray();
        length = extents.stream().mapToLong(e -> e[1]).toArray();
    }

    /** The same extents, moved another way. */
    RawCopy as(Kind other) {
        return new RawCopy(other, this);
    }

    private RawCopy(Kind kind, RawCopy extents) {
        this.kind = kind;
        this.size = extents.size;
        this.memory = extents.memory;
        this.offset = extents.offset;
        this.length = extents.length;
        this.first = extents.first;
    }

    /** A read of all of {@code buffer} (an IOVEC {@code iter} over it, rewound after) from position {@code pos}. */
    long read(long pos, MemorySegment buffer, IovIter iter) {
        int op = (int) (pos / size);
        long at = 0;
        for (int e = first[op]; e < first[op + 1]; e++) {
            long len = length[e];
            switch (kind) {
                case RAW -> Memory.copyMcsafe(memory[e], offset[e], buffer, at, len);
                case RAW_PAGES -> {
                    for (long p = 0; p < len; p += Units.PAGE_SIZE) Memory.copyMcsafe(memory[e], offset[e] + p, buffer, at + p, Units.PAGE_SIZE);
                }
                case RAW_ITER -> iter.copyToIterMcsafe(memory[e], offset[e], len);
            }
            at += len;
        }
        if (kind == Kind.RAW_ITER) iter.revert(at);
        return at;
    }

    /** A write of all of {@code buffer}; with the write cache on, each extent is written back as the stack's flushcache copy does. */
    long write(long pos, MemorySegment buffer, IovIter iter, boolean writeCache) {
        int op = (int) (pos / size);
        long at = 0;
        for (int e = first[op]; e < first[op + 1]; e++) {
            long len = length[e];
            switch (kind) {
                case RAW -> Memory.copy(buffer, at, memory[e], offset[e], len);
                case RAW_PAGES -> {
                    for (long p = 0; p < len; p += Units.PAGE_SIZE) Memory.copy(buffer, at + p, memory[e], offset[e] + p, Units.PAGE_SIZE);
                }
                case RAW_ITER -> {
                    if (writeCache) iter.copyFromIterFlushcache(memory[e], offset[e], len);
                    else iter.copyFromIter(memory[e], offset[e], len);
                }
            }
            if (writeCache && kind != Kind.RAW_ITER) Memory.writeback(memory[e], offset[e], len);
            at += len;
        }
        if (kind == Kind.RAW_ITER) iter.revert(at);
        return at;
    }
}
