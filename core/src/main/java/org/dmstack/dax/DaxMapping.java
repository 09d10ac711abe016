package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
    // Set by DaxDevice on the way back up: the device whose operations filled the mapping is the
    // owner. The reference is stored only when the owner changes, never cleared per call: on JDK
    // 25 a reference store into an old object costs G1's post-write barrier, a full fence
    // included, on every call. It stays with the memory, offset and pages it was stored with (a
    // direct_access that failed leaves all of them as they were); a killed device is dropped
    // from the threads' mappings by {@link #forget}.
    DaxDevice owner;
    long ownerPgoff;
    /** Set by {@link #set}: the answer has no owner yet; the first device to see it on the way up claims it. */
    boolean unclaimed;
    /** Whether the caller holds a read-side section for a whole operation (fs-dax). */
    boolean inOperation;
    /** DAX_RECOVERY_WRITE rather than DAX_ACCESS: set by fs-dax to retry a write(2) that met a media error. */
    boolean recovery;
    /** The read-side counter of the thread whose mapping this is (fs-dax's), or null. */
    final DaxReadLock.Reader reader;

    // In a thread's own mapping, that thread's call-count cells of the devices it met lately, by
    // the device's slot: a ThreadLocal lookup per device per call cost more than an atomic add.
    static final int CELLS = 8;
    private final CallCounts[] cellsOf;
    private final long[][] cells;

    /** A mapping for one caller to fill and reuse. */
    public DaxMapping() {
        this(null);
    }

    DaxMapping(DaxReadLock.Reader reader) {
        this.reader = reader;
        this.cellsOf = reader == null ? null : new CallCounts[CELLS];
        this.cells = reader == null ? null : new long[CELLS][];
    }

    /** This thread's cell of {@code counts}: remembered in a thread's own mapping, looked up otherwise. */
    long[] cell(CallCounts counts) {
        if (cellsOf == null) return counts.cell();
        int i = counts.slot;
        if (cellsOf[i] == counts) return cells[i];
        long[] cell = counts.cell();
        cellsOf[i] = counts;
        cells[i] = cell;
        return cell;
    }

    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(DaxMapping.class, "owner", DaxDevice.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Drops {@code dead} as this mapping's owner, so that a thread's mapping does not keep a
     * removed device reachable. Called once no read-side section that could use it is left: the
     * thread only stores a live owner, and reads the owner only after storing it in the same call.
     */
    void forget(DaxDevice dead) {
        if (owner == dead) OWNER.compareAndSet(this, dead, null);
    }

    /** What a driver's direct_access answers: {@code pages} pages (at least one) at {@code offset} of {@code memory}. */
    public void set(MemorySegment memory, long offset, long pfn, long pages) {
        if (pages < 1) throw new IllegalArgumentException("direct_access must give at least one page, not " + pages);
        // The same memory call after call: no reference store (and no GC barrier) to make.
        if (this.memory != memory) this.memory = memory;
        this.offset = offset;
        this.pfn = pfn;
        this.pages = pages;
        this.unclaimed = true;
    }

    /**
     * Whether the caller maps for a recovery write (6.1's DAX_RECOVERY_WRITE): a driver with bad
     * blocks in the range then maps the pages up to the first bad one, or that page alone, instead
     * of failing with EIO, and its copy_from_iter repairs whole bad pages (dax_recovery_write).
     */
    public boolean recovery() {
        return recovery;
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
