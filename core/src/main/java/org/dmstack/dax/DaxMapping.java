package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import org.dmstack.units.Units;

/**
 * The answer to direct_access, written into a mapping the caller owns and may reuse (fs-dax keeps
 * one per thread), so that walking a stack of devices allocates nothing: {@code pages} contiguous
 * pages of {@link #memory()} from byte {@link #offset()}, the first page's frame number, and the
 * device that owns that memory — the driver at the bottom of the stack, whose copies and flushes
 * move the bytes (in Linux 6.1 the dax_device's flags decide the copy, not the layers above it).
 *
 * <p>A mapping also says whether its caller is inside a DAX read-side section (fs-dax holds one
 * for the whole call, dax_read_lock), so that the devices it crosses only check they are alive.
 */
public final class DaxMapping {
    private MemorySegment memory;
    private long offset;
    private long pages;
    private long pfn;
    // Set by DaxDevice on the way down; the deepest device to answer is the owner.
    DaxDevice owner;
    long ownerPgoff;
    /** The owner's call counts for this thread, when the mapping is fs-dax's (and so the thread's own). */
    long[] ownerCalls;
    /** Whether the caller holds a read-side section for a whole operation (fs-dax). */
    boolean inOperation;
    /** The read-side counter of the thread whose mapping this is (fs-dax's), or null. */
    final DaxReadLock.Reader reader;

    /** A mapping for one caller to fill and reuse. */
    public DaxMapping() {
        this(null);
    }

    DaxMapping(DaxReadLock.Reader reader) {
        this.reader = reader;
    }

    /** What a driver's direct_access answers: {@code pages} pages (at least one) at {@code offset} of {@code memory}. */
    public void set(MemorySegment memory, long offset, long pfn, long pages) {
        if (pages < 1) throw new IllegalArgumentException("direct_access must give at least one page, not " + pages);
        this.memory = memory;
        this.offset = offset;
        this.pfn = pfn;
        this.pages = pages;
    }

    /** The memory the pages lie in (usually all of the owner's). */
    public MemorySegment memory() {
        return memory;
    }

    /** The byte of {@link #memory()} where the first page starts. */
    public long offset() {
        return offset;
    }

    public long pages() {
        return pages;
    }

    public long pfn() {
        return pfn;
    }

    /** How many bytes are mapped. */
    public long bytes() {
        return pages << Units.PAGE_SHIFT;
    }

    /** The mapped pages as a segment of their own (a new slice: for tools and tests, not I/O paths). */
    public MemorySegment kaddr() {
        return memory.asSlice(offset, bytes());
    }

    /** Limits the mapping to at most {@code maxPages} pages (dm clamps to its target). */
    public void clamp(long maxPages) {
        if (maxPages < pages) pages = Math.max(1, maxPages);
    }

    @Override
    public String toString() {
        return pages + " page(s) at pfn " + pfn + (owner != null ? " of " + owner.name() : "");
    }
}
