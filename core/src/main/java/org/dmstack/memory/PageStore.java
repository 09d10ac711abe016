package org.dmstack.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Consumer;
import org.dmstack.units.Units;

/**
 * Sparse memory for a RAM disk, like the radix tree of pages in Linux's brd: page N of the device
 * exists only once something was written to it. Pages are native memory, so poison and DAX work
 * on them.
 *
 * <p>Pages are carved out of chunks of {@value #CHUNK_PAGES} pages (2 MiB), each with its own
 * arena, because closing an arena is expensive; a chunk is given back to the system as soon as its
 * last page is freed. So {@link #pages()} is what the device holds, and {@link #bytesAllocated()}
 * is what it costs (the two differ by the free slots of partly used chunks: at most one chunk
 * while pages are only written, more after scattered frees). A chunk is {@link HugeMemory}: one
 * huge page where the kernel gives them, as Linux's direct map covers brd's pages.
 *
 * <p>A page is found without an object of its own: the table holds the page's slot number (its
 * chunk and its place there), and the chunks' memory is one small array. A bio at a random page
 * of a large store touches the table's leaf, that array and the page; per-page objects were a
 * cache miss each.
 *
 * <p>Thread-safe. {@link #write} and {@link #zero} work under the store's lock, so a page is never
 * freed and reused under a copy into it; {@link #read} copies without it first and again under it
 * when a page was freed meanwhile. Memory handed out by {@link #page} or {@link #pageForWrite}
 * (the DAX path) stays valid until the page is freed; after that, using it may fail or may touch a
 * page reused for other data, as with a stale DAX mapping in Linux. Memory handed out by {@link #pin}
 * is different: it stays the memory of the pages it was, or of nothing, until {@link #unpin}.
 */
public final class PageStore {
    /** Pages per chunk: 512 pages, 2 MiB, a huge page. */
    public static final int CHUNK_PAGES = (int) (HugeMemory.HUGE_PAGE_SIZE >> Units.PAGE_SHIFT);

    private static final int CHUNK_SHIFT = Integer.numberOfTrailingZeros(CHUNK_PAGES);
    private static final long CHUNK_BYTES = HugeMemory.HUGE_PAGE_SIZE;

    private static final class Chunk {
        final int number;
        final Arena arena = Arena.ofShared();
        final MemorySegment memory = HugeMemory.allocate(arena, CHUNK_BYTES);
        final BitSet used = new BitSet(CHUNK_PAGES);
        int count;

        Chunk(int number) {
            this.number = number;
        }
    }

    private final String name;
    private volatile long sizePages;
    /** Page index to slot + 1 (0: never written), a slot being chunk number * CHUNK_PAGES + place in the chunk. */
    private final PageTable pages = new PageTable();
    /** The chunks' memory by chunk number (null: no chunk), what a lookup reads; replaced when it grows. */
    private volatile MemorySegment[] memory = new MemorySegment[0];
    /** The chunks by number, for allocating and freeing (under the monitor). */
    private Chunk[] chunks = new Chunk[0];
    private int chunkCount;
    /** No chunk number below it is free. */
    private int firstFree;
    private final Set<Chunk> notFull = new LinkedHashSet<>();
    private volatile boolean released;
    /** Writes and pins hold it shared, reads validate against it; freeing pages holds it exclusively. Always taken before the monitor. */
    private final StampedLock lock = new StampedLock();

    /** Freed pages that pins may keep from reuse at once; past it, {@link #pin} says no until the pins are gone. */
    static final int MAX_DEFERRED = 256;
    /** What a page never written reads as, handed out by {@link #pin}. */
    private static final MemorySegment ZERO_PAGE = Arena.global().allocate(Units.PAGE_SIZE, Units.PAGE_SIZE);
    /** Pins held now (see {@link #pin}). */
    private final AtomicInteger pinned = new AtomicInteger();
    /** How many freed slots wait for the pins to go (plus one while the release does); written before pinned is read again, see freeSlot. */
    private volatile int deferredCount;
    /** The freed slots that wait for the pins to go (under the monitor). */
    private int[] deferred = new int[16];
    /** The store was released while pinned: its chunks go back with the last pin (under the monitor). */
    private boolean releaseDeferred;

    /**
     * @param name what the store is for, used in messages
     * @param sizePages the device's size in pages; pages at or beyond it cannot be allocated
     */
    public PageStore(String name, long sizePages) {
        if (sizePages < 0) throw new IllegalArgumentException(name + ": negative size " + sizePages + " pages");
        this.name = name;
        this.sizePages = sizePages;
    }

    public String name() {
        return name;
    }

    /** The size in pages. */
    public long sizePages() {
        return sizePages;
    }

    /**
     * The memory of page {@code index}, or null when it was never written (it reads as zeros). A
     * new segment each call: the bio path copies through the chunk and never needs one.
     */
    public MemorySegment page(long index) {
        int slot = pages.get(index) - 1;
        return slot < 0 ? null : memory[slot >>> CHUNK_SHIFT].asSlice(offsetInChunk(slot), Units.PAGE_SIZE);
    }

    /**
     * The memory of page {@code index}, allocated (zeroed) if it does not exist yet.
     *
     * @throws IndexOutOfBoundsException past the end of the store
     * @throws IllegalStateException when the system has no memory left, or the store was released
     */
    public MemorySegment pageForWrite(long index) {
        int slot = slotForWrite(index);
        return memory[slot >>> CHUNK_SHIFT].asSlice(offsetInChunk(slot), Units.PAGE_SIZE);
    }

    /**
     * Where page {@code index} is, allocated if it does not exist yet: a slot for {@link #chunk} and
     * {@link #offsetInChunk}, for a caller that passes memory and an offset on without a segment
     * of its own (brd's direct_access). Same errors as {@link #pageForWrite}.
     */
    public int slotForWrite(long index) {
        int slot = pages.get(index) - 1;
        if (slot >= 0) return slot;
        checkIndex(index);
        synchronized (this) {
            if (released) throw new IllegalStateException(name + ": the memory of this device was released");
            slot = pages.get(index) - 1;
            if (slot >= 0) return slot;
            Chunk c = notFull.isEmpty() ? newChunk() : notFull.iterator().next();
            int place = c.used.nextClearBit(0);
            c.used.set(place);
            if (++c.count == CHUNK_PAGES) notFull.remove(c);
            slot = (c.number << CHUNK_SHIFT) | place;
            pages.put(index, slot + 1);
            return slot;
        }
    }

    /**
     * The first page from {@code from} on, and before {@code end}, that was written
     * ({@code written}) or reads as zeros because it never was or was freed (not {@code written});
     * {@code end} when there is none. Nothing is locked or allocated: a write or free racing it
     * may change the answer at once.
     */
    public long seekPage(long from, long end, boolean written) {
        return pages.seek(from, end, written);
    }

    /** The memory of the chunk that holds {@code slot} (see {@link #slotForWrite}). */
    public MemorySegment chunk(int slot) {
        return memory[slot >>> CHUNK_SHIFT];
    }

    /** Where in its chunk the page of {@code slot} starts, in bytes. */
    public static long offsetInChunk(int slot) {
        return (long) (slot & (CHUNK_PAGES - 1)) << Units.PAGE_SHIFT;
    }

    private Chunk newChunk() {
        int number = firstFree;
        while (number < chunks.length && chunks[number] != null) number++;
        // Slots are ints: a store holds at most 2^31 - 1 pages (8 TiB), as much as anyone can write.
        if (number >= Integer.MAX_VALUE >> CHUNK_SHIFT) {
            throw new IllegalStateException(name + ": cannot allocate memory for a page (" + bytesAllocated() + " bytes held)");
        }
        Chunk c;
        try {
            c = new Chunk(number);
        } catch (OutOfMemoryError e) {
            // The native allocation failed (Linux's brd returns -ENOMEM): a failed I/O, not a dead JVM.
            throw new IllegalStateException(name + ": cannot allocate memory for a page (" + bytesAllocated() + " bytes held)", e);
        }
        if (number == chunks.length) {
            int length = Math.max(4, chunks.length * 2);
            chunks = Arrays.copyOf(chunks, length);
            memory = Arrays.copyOf(memory, length);
        }
        chunks[number] = c;
        memory[number] = c.memory; // before any slot of it is published
        chunkCount++;
        firstFree = number + 1;
        notFull.add(c);
        return c;
    }

    /** Frees page {@code index} if it exists: it reads as zeros again. Returns whether it existed. */
    public boolean free(long index) {
        long stamp = lock.writeLock();
        try {
            return freeLocked(index);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    private synchronized boolean freeLocked(long index) {
        int slot = pages.remove(index) - 1;
        if (slot < 0) return false;
        if (pinned.get() == 0) {
            reclaim(slot); // no pin holds memory, and none can be taken under the write lock
            return true;
        }
        if (deferredCount == deferred.length) deferred = Arrays.copyOf(deferred, 2 * deferred.length);
        deferred[deferredCount] = slot;
        deferredCount = deferredCount + 1;
        // The last pin may have gone between the first look and now, having seen nothing deferred.
        if (pinned.get() == 0) reclaimDeferred();
        return true;
    }

    /** Makes a slot nobody uses any more free: zeroed for reuse, or its chunk given back with its last page. */
    private void reclaim(int slot) {
        Chunk c = chunks[slot >>> CHUNK_SHIFT];
        MemorySegment p = c.memory.asSlice(offsetInChunk(slot), Units.PAGE_SIZE);
        Poison.clearAll(p);
        c.used.clear(slot & (CHUNK_PAGES - 1));
        if (--c.count == 0) {
            chunks[c.number] = null;
            memory[c.number] = null;
            chunkCount--;
            firstFree = Math.min(firstFree, c.number);
            notFull.remove(c);
            c.arena.close();
        } else {
            p.fill((byte) 0); // a free slot is zero, ready for reuse
            notFull.add(c);
        }
    }

    /** Reclaims what waited for the pins; under the write lock and the monitor, with no pin held. */
    private void reclaimDeferred() {
        if (releaseDeferred) {
            releaseDeferred = false;
            closeChunks();
        } else {
            for (int i = 0; i < deferredCount; i++) reclaim(deferred[i]);
        }
        deferredCount = 0;
    }

    /**
     * Hands the memory of {@code bytes} bytes from byte {@code offset} to {@code into}, in order and
     * in as few pieces as lie together (a page never written is a shared page of zeros), for a
     * reader that uses it in place, without a copy: an NBD reply written from it to a socket. The
     * memory stays what it was until {@link #unpin}: a page freed meanwhile reads as zeros to
     * everyone else at once, but its memory is neither reused nor given back before the pins are
     * gone, so a pinned piece never shows another page's data. Writes to a pinned page land in it,
     * as they would race a read.
     *
     * <p>Returns false, having pinned nothing and handed nothing over, while {@value #MAX_DEFERRED}
     * freed pages already wait for pins to go (a pin held long, by a socket that does not drain,
     * keeps no more than that from reuse): the caller copies with {@link #read} instead.
     *
     * @throws IndexOutOfBoundsException past the end of the store
     * @throws IllegalStateException when the store was released
     */
    public boolean pin(long offset, long bytes, Consumer<MemorySegment> into) {
        long stamp = lock.readLock();
        try {
            checkRange(offset, bytes);
            if (deferredCount >= MAX_DEFERRED) return false;
            pinned.incrementAndGet();
            long done = 0;
            MemorySegment run = null;
            long runStart = 0, runLength = 0;
            while (done < bytes) {
                long at = offset + done;
                long inPage = at & (Units.PAGE_SIZE - 1);
                long n = Math.min(bytes - done, Units.PAGE_SIZE - inPage);
                int slot = pages.get(at >>> Units.PAGE_SHIFT) - 1;
                MemorySegment m = slot < 0 ? ZERO_PAGE : memory[slot >>> CHUNK_SHIFT];
                long start = slot < 0 ? inPage : offsetInChunk(slot) + inPage;
                if (m == run && slot >= 0 && start == runStart + runLength) {
                    runLength += n; // the next page lies right after this one in its chunk
                } else {
                    if (run != null) into.accept(run.asSlice(runStart, runLength));
                    run = m;
                    runStart = start;
                    runLength = n;
                }
                done += n;
            }
            if (run != null) into.accept(run.asSlice(runStart, runLength));
            return true;
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** Gives back one {@link #pin}; the last one lets the pages freed meanwhile be reused. */
    public void unpin() {
        if (pinned.decrementAndGet() != 0 || deferredCount == 0) return;
        long stamp = lock.writeLock();
        try {
            synchronized (this) {
                if (pinned.get() == 0 && deferredCount > 0) reclaimDeferred();
            }
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** Frees every page in {@code [first, first + count)}; returns how many existed. */
    public long free(long first, long count) {
        long stamp = lock.writeLock();
        try {
            return freeLocked(first, count);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    private long freeLocked(long first, long count) {
        long freed = 0;
        if (count <= 0) return 0;
        if (count < pages.size()) {
            for (long i = first; i < first + count; i++) if (freeLocked(i)) freed++;
        } else {
            // A large range over a sparse store: walk what exists, not the range.
            for (long i : pageIndexes()) if (i >= first && i < first + count && freeLocked(i)) freed++;
        }
        return freed;
    }

    /**
     * Reads {@code bytes} bytes from byte {@code offset} of the store into {@code dst}; pages never
     * written read as zeros.
     */
    public void read(long offset, MemorySegment dst, long dstOffset, long bytes) {
        checkRange(offset, bytes);
        // Optimistically, without taking the lock: a page freed under the copy (a discard racing
        // the read) is seen by validate, or fails the copy when its chunk went back to the system
        // (closed, or gone from the chunk array); either way the read is done again under the lock,
        // where a real error is thrown again. Nothing is written to the store.
        long stamp = lock.tryOptimisticRead();
        if (stamp != 0) {
            try {
                copyOut(offset, dst, dstOffset, bytes);
                if (lock.validate(stamp)) return;
            } catch (RuntimeException e) {
                // the chunk went away under the copy
            }
        }
        stamp = lock.readLock();
        try {
            checkRange(offset, bytes);
            copyOut(offset, dst, dstOffset, bytes);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    private void copyOut(long offset, MemorySegment dst, long dstOffset, long bytes) {
        long done = 0;
        while (done < bytes) {
            long at = offset + done;
            long inPage = at & (Units.PAGE_SIZE - 1);
            long n = Math.min(bytes - done, Units.PAGE_SIZE - inPage);
            int slot = pages.get(at >>> Units.PAGE_SHIFT) - 1;
            if (slot < 0) dst.asSlice(dstOffset + done, n).fill((byte) 0);
            else Memory.copy(memory[slot >>> CHUNK_SHIFT], offsetInChunk(slot) + inPage, dst, dstOffset + done, n);
            done += n;
        }
    }

    /** Writes {@code bytes} bytes of {@code src} at byte {@code offset}, allocating pages as needed. */
    public void write(long offset, MemorySegment src, long srcOffset, long bytes) {
        long stamp = lock.readLock();
        try {
            checkRange(offset, bytes);
            long done = 0;
            while (done < bytes) {
                long at = offset + done;
                long inPage = at & (Units.PAGE_SIZE - 1);
                long n = Math.min(bytes - done, Units.PAGE_SIZE - inPage);
                int slot = slotForWrite(at >>> Units.PAGE_SHIFT);
                Memory.copy(src, srcOffset + done, memory[slot >>> CHUNK_SHIFT], offsetInChunk(slot) + inPage, n);
                done += n;
            }
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /**
     * Makes {@code bytes} bytes from byte {@code offset} read as zeros: whole pages are freed, the
     * parts of pages at either end are zeroed where those pages exist. Returns the pages freed.
     */
    public long zero(long offset, long bytes) {
        long end = offset + bytes;
        long firstWhole = (offset + Units.PAGE_SIZE - 1) >>> Units.PAGE_SHIFT;
        long endWhole = end >>> Units.PAGE_SHIFT;
        long stamp = lock.writeLock();
        try {
            checkRange(offset, bytes);
            if (firstWhole >= endWhole) {
                zeroPart(offset, end);
                return 0;
            }
            zeroPart(offset, firstWhole << Units.PAGE_SHIFT);
            zeroPart(endWhole << Units.PAGE_SHIFT, end);
            return freeLocked(firstWhole, endWhole - firstWhole);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** Zeroes [from, to), which lies within one page, if that page exists. */
    private void zeroPart(long from, long to) {
        if (to <= from) return;
        int slot = pages.get(from >>> Units.PAGE_SHIFT) - 1;
        if (slot >= 0) chunk(slot).asSlice(offsetInChunk(slot) + (from & (Units.PAGE_SIZE - 1)), to - from).fill((byte) 0);
    }

    private void checkRange(long offset, long bytes) {
        if (released) throw new IllegalStateException(name + ": the memory of this device was released");
        long size = sizePages << Units.PAGE_SHIFT;
        if (offset < 0 || bytes < 0 || offset > size || bytes > size - offset) {
            throw new IndexOutOfBoundsException(name + ": bytes " + offset + "+" + bytes + " outside a store of " + size + " bytes");
        }
    }

    /**
     * Changes the size; shrinking frees the pages past the new end.
     */
    public void resize(long newSizePages) {
        if (newSizePages < 0) throw new IllegalArgumentException(name + ": negative size " + newSizePages + " pages");
        long stamp = lock.writeLock();
        try {
            long old = sizePages;
            sizePages = newSizePages;
            if (newSizePages < old) freeLocked(newSizePages, old - newSizePages);
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    /** Pages that exist (were written and not freed since). */
    public long pages() {
        return pages.size();
    }

    /** The memory the device holds: {@link #pages()} in bytes. */
    public long bytesHeld() {
        return (long) pages.size() * Units.PAGE_SIZE;
    }

    /** The memory taken from the system, chunks included. */
    public synchronized long bytesAllocated() {
        return chunkCount * CHUNK_BYTES;
    }

    /** The indexes of the pages that exist, sorted. */
    public List<Long> pageIndexes() {
        List<Long> list = new ArrayList<>();
        pages.forEachIndex(list::add);
        return list;
    }

    /** Gives all memory back to the system. The store cannot be used afterwards. */
    public void release() {
        long stamp = lock.writeLock();
        try {
            releaseLocked();
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    private synchronized void releaseLocked() {
        released = true;
        pages.clear();
        if (pinned.get() > 0) {
            // Pinned memory is in use (a socket reading it): the chunks go back with the last pin.
            releaseDeferred = true;
            deferredCount = deferredCount + 1;
            if (pinned.get() > 0) return;
            releaseDeferred = false;
            deferredCount = 0;
        }
        closeChunks();
    }

    private void closeChunks() {
        for (Chunk c : chunks) {
            if (c == null) continue;
            Poison.clearAll(c.memory);
            c.arena.close();
        }
        chunks = new Chunk[0];
        memory = new MemorySegment[0];
        chunkCount = 0;
        firstFree = 0;
        notFull.clear();
    }

    public boolean isReleased() {
        return released;
    }

    private void checkIndex(long index) {
        if (index < 0 || index >= sizePages) {
            throw new IndexOutOfBoundsException(name + ": page " + index + " outside a store of " + sizePages + " pages");
        }
    }

    @Override
    public String toString() {
        return name + ": " + pages() + " of " + sizePages + " pages held";
    }
}
