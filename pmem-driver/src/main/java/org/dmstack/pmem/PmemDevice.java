package org.dmstack.pmem;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.dmstack.block.BadBlocks;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.IoAccounting;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.MappingPool;
import org.dmstack.memory.Memory;
import org.dmstack.memory.Poison;
import org.dmstack.nvdimm.Namespaces;
import org.dmstack.nvdimm.Region;

/**
 * One pmem device (a raw namespace covering a whole region), like Linux's pmem_device: a block
 * device and a DAX device over the region's memory.
 *
 * <ul>
 *   <li>Block path: READ fails with IOERR over a bad sector (and stops at poison it did not know
 *       of); WRITE clears the poison and bad-block entries of the sectors it covers; FLUSH and
 *       PREFLUSH force what block writes wrote since the last flush ({@link DirtyRanges}), FUA
 *       forces the written range (the block queue's write cache is "write back"; FUA is
 *       advertised only when the region has flush hints, otherwise the block layer sends FUA
 *       writes as a write and a flush). DISCARD and WRITE_ZEROES are not supported (EOPNOTSUPP).
 *   <li>DAX path: direct_access gives every page from pgoff up to the end or the first bad page
 *       (EIO when pgoff itself is bad); copy_from_iter is the flushcache copy when the DAX write
 *       cache is on and a plain copy when it is off; copy_to_iter is machine-check safe; flush
 *       forces the range, and only when the DAX write cache is on.
 *   <li>Media errors: {@link #injectError} and {@link #clearError} (ndctl inject-error and
 *       --uninject) poison the memory and keep the bad-block list; a region's known poison is
 *       injected when the device is made.
 *   <li>Read-only: the disk of a read-only region (an unarmed NVDIMM) refuses writes, and fs-dax
 *       its writes and stores; reads go on ({@link Pmem} keeps it in step with the region).
 * </ul>
 */
public final class PmemDevice implements Namespaces.Namespace {
    private final String name;
    private final Region region;
    private final Backing backing;
    private final MemorySegment memory;
    private final long size;
    private final long pfnBase;
    private final boolean volatileMemory;
    private final BadBlocks badBlocks = new BadBlocks();
    private final GenDisk disk;
    private final DaxDevice dax;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** What block writes left unforced in a file mapping; null over anonymous memory (nothing to force). */
    private final DirtyRanges dirty;
    private volatile boolean alive = true;

    /**
     * @param region the region the device fronts (null for one from direct configuration)
     * @param daxWriteCache the DAX write cache the device starts with
     */
    PmemDevice(String name, DevT devt, Region region, Backing backing, long size, boolean volatileMemory, boolean daxWriteCache) {
        this.name = name;
        this.region = region;
        this.backing = backing;
        this.memory = backing.memory();
        this.size = size;
        this.volatileMemory = volatileMemory;
        this.dirty = memory.isMapped() ? new DirtyRanges(size, backing.unforced()) : null;
        this.pfnBase = (region != null && region.spaStart() != 0 ? region.spaStart() : memory.address()) >>> Units.PAGE_SHIFT;
        this.disk = GenDisk.builder(name, devt, size >> Units.SECTOR_SHIFT, this::submitBio)
                .limits(QueueLimits.of(Units.SECTOR_SIZE, Units.PAGE_SIZE).setMaxHwSectors(QueueLimits.UNLIMITED))
                // pmem_attach_disk: FUA only when nvdimm_has_flush; the block layer turns other FUA writes into write + flush.
                .writeCache(true, region != null && region.hasFlush())
                .dax(new Dax(), daxWriteCache)
                .badBlocks(badBlocks)
                // blk_alloc_disk leaves minors 0: device_add_disk numbers it from the extended range (range 0).
                .partitions(0, false)
                // pmem_submit_bio accounts only while queue/iostats is 1, and pmem_attach_disk leaves it 0.
                .accounting(IoAccounting.IOSTATS, false)
                .build();
        this.dax = disk.dax();
        if (region != null) {
            for (Region.PoisonRange p : region.poison()) {
                if (p.offset() < 0 || p.length() <= 0 || p.offset() + p.length() > size) continue;
                Poison.inject(memory, p.offset(), p.length());
                long first = p.offset() >> Units.SECTOR_SHIFT;
                long end = (p.offset() + p.length() + Units.SECTOR_SIZE - 1) >> Units.SECTOR_SHIFT;
                badBlocks.set(first, end - first);
            }
        }
    }

    public String name() {
        return name;
    }

    public DevT devt() {
        return disk.devt();
    }

    /** The block device, as the layers above see it. */
    public BlockDevice device() {
        return disk;
    }

    /** The region this device fronts, or null when it was configured directly. */
    public Region region() {
        return region;
    }

    /** The backing file, or null for anonymous memory. */
    public Path file() {
        return backing.file();
    }

    /** Size in bytes. */
    public long sizeBytes() {
        return size;
    }

    /** A volatile region: the DAX write cache starts off and nothing outlives the device. */
    public boolean isVolatile() {
        return volatileMemory;
    }

    /** True when the file is mapped with MAP_SYNC (a DAX file system under it). */
    public boolean synchronousMapping() {
        return backing.synchronous();
    }

    /** get_disk_ro: the disk refuses writes (and fs-dax its DAX writes) while its region is read-only. */
    public boolean readOnly() {
        return disk.readOnly();
    }

    /** set_disk_ro. */
    void setReadOnly(boolean readOnly) {
        disk.setReadOnly(readOnly);
    }

    /** The page frame number of the first page (from the region's SPA when it has one). */
    public long pfn() {
        return pfnBase;
    }

    /**
     * Poisons {@code count} sectors from {@code sector} and lists them as bad blocks, as
     * {@code ndctl inject-error --block=sector --count=count} does.
     *
     * @throws IllegalArgumentException when the range is outside the device
     */
    public void injectError(long sector, long count) {
        checkRange(sector, count);
        Poison.inject(memory, sector << Units.SECTOR_SHIFT, count << Units.SECTOR_SHIFT);
        badBlocks.set(sector, count);
    }

    /**
     * Clears the poison and the bad-block entries of {@code count} sectors from {@code sector}
     * ({@code ndctl inject-error --uninject}). The data there is whatever the media held.
     */
    public void clearError(long sector, long count) {
        checkRange(sector, count);
        Poison.clear(memory, sector << Units.SECTOR_SHIFT, count << Units.SECTOR_SHIFT);
        badBlocks.clear(sector, count);
    }

    /** The bad sector ranges, merged and sorted. */
    public List<BadBlocks.Range> badBlocks() {
        return badBlocks.ranges();
    }

    private void checkRange(long sector, long count) {
        long sectors = size >> Units.SECTOR_SHIFT;
        if (sector < 0 || count <= 0 || sector >= sectors || count > sectors - sector) {
            throw new IllegalArgumentException(name + ": sectors " + sector + "+" + count + " are outside the device (" + sectors + " sectors)");
        }
    }

    /**
     * Called by GenDisk for every valid bio; completes it before returning (pmem_submit_bio).
     *
     * <p>The whole block path is this one method, on purpose: every bundle update loads it anew
     * and the JIT compiles it again. Split into doBio, read and written, each helper was hot
     * enough to be compiled on its own and was then compiled again inside its caller: three times
     * the compiler's CPU per new revision, which the next update under load had to share a core
     * with (benchmarks/README.md, "Hot swap").
     */
    private void submitBio(Bio bio) {
        inFlight.incrementAndGet();
        try {
            if (!alive) {
                disk.handBack(bio);
                return;
            }
            long sector = bio.sector();
            long offset = sector << Units.SECTOR_SHIFT;
            BioOp op = bio.op();
            if (bio.hasFlag(BioFlag.PREFLUSH) || op == BioOp.FLUSH) flush();
            BlkStatus status = BlkStatus.OK;
            if (op == BioOp.READ) {
                MemorySegment buffer = bio.data();
                long bytes = buffer.byteSize();
                long bad = badBlocks.isEmpty() ? -1 : badBlocks.firstBad(sector, bytes >> Units.SECTOR_SHIFT);
                if (bad >= 0) {
                    status = BlkStatus.ioerr(name + ": I/O error reading sector " + sector + ": bad block at sector " + bad);
                } else {
                    // Machine-check safe: poison not yet listed fails the read instead of crashing.
                    long copied = Memory.copyMcsafe(memory, offset, buffer, 0, bytes);
                    if (copied < bytes) status = mediaError(sector, copied);
                }
            } else if (op == BioOp.WRITE) {
                long bytes = bio.size();
                clearPoison(sector, bio.sectors());
                Memory.copy(bio.data(), 0, memory, offset, bytes);
                // A FUA write is forced right after it; any other waits in the marks for a FLUSH.
                if (bio.hasFlag(BioFlag.FUA)) Memory.writeback(memory, offset, bytes);
                else if (dirty != null) dirty.mark(offset, bytes);
            } else if (op != BioOp.FLUSH) {
                // pmem_attach_disk sets no discard or write-zeroes limit: the block layer refuses both first.
                status = BlkStatus.notsupp(name + ": " + op + " is not supported");
            }
            bio.endio(status);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** nvdimm_flush for a file mapping: forces what block writes left unforced, and only that. */
    private void flush() {
        if (dirty != null) dirty.forceMarked((offset, bytes) -> Memory.writeback(memory, offset, bytes));
    }

    private BlkStatus mediaError(long sector, long copied) {
        return BlkStatus.ioerr(name + ": I/O error reading sector " + sector + ": media error at sector " + (sector + (copied >> Units.SECTOR_SHIFT)));
    }

    /** pmem_clear_poison: a write of whole sectors repairs them. */
    private void clearPoison(long sector, long sectors) {
        if (Poison.any()) Poison.clear(memory, sector << Units.SECTOR_SHIFT, sectors << Units.SECTOR_SHIFT);
        if (!badBlocks.isEmpty()) badBlocks.clear(sector, sectors);
    }

    /**
     * Removes the device: new bios are handed back undone (GenDisk.handBack) and DAX calls fail
     * with ENXIO, calls in flight finish, then what block writes left unforced is forced and the
     * memory unmapped (DAX mappings handed out before then fail cleanly when used), or
     * with a pool a file mapping is left there with what block writes did not force yet, for the
     * next device over that file (DAX mappings handed out before still reach the file's memory).
     */
    void close(MappingPool pool) {
        disk.del();
        alive = false;
        dax.kill();
        while (inFlight.get() > 0) LockSupport.parkNanos(100_000);
        // Unmapped for good, the marks die with it: a FLUSH of a later device over the file must
        // still cover these writes, so they are made durable now.
        if (dirty != null && pool == null) flush();
        backing.close(pool, dirty == null ? null : dirty.marks());
    }

    /** pmem's dax_operations (reads are the default machine-check-safe copy: it stops at the first poisoned cache line). */
    private final class Dax implements DaxOperations {
        // What direct_access reads, in the operations object itself: one load fewer between two
        // copies than going through the device's fields (a 4 KiB DAX read pays for every one).
        private final MemorySegment memory = PmemDevice.this.memory;
        private final long devicePages = size >>> Units.PAGE_SHIFT;
        private final long pfnBase = PmemDevice.this.pfnBase;
        private final BadBlocks badBlocks = PmemDevice.this.badBlocks;

        /**
         * Called for a DAX mapping: the pages from pgoff, up to nrPages or the end. As 6.1's
         * __pmem_direct_access, a bad block anywhere in the range is EIO; in recovery mode it maps
         * the pages before the first bad one, rounded up to whole pages, or the bad page alone.
         */
        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            long left = devicePages - pgoff;
            if (left <= 0) throw new DaxException(Errno.ERANGE, name + ": page offset " + pgoff + " outside the device");
            // No more than asked for (at least one): the caller clamps to that anyway.
            long pages = Math.min(left, Math.max(1, nrPages));
            if (!badBlocks.isEmpty()) {
                long sector = pgoff << Units.PAGE_SECTORS_SHIFT;
                long bad = badBlocks.firstBad(sector, pages << Units.PAGE_SECTORS_SHIFT);
                if (bad >= 0) {
                    if (!map.recovery()) {
                        throw new DaxException(Errno.EIO, name + ": pages " + pgoff + "+" + pages + " hold a media error (bad sector " + bad + ")");
                    }
                    pages = Math.max(1, (bad - sector + Units.PAGE_SECTORS - 1) >> Units.PAGE_SECTORS_SHIFT);
                }
            }
            map.set(memory, pgoff << Units.PAGE_SHIFT, pfnBase + pgoff, pages);
        }

        /**
         * Called for a DAX write: durable on return when the DAX write cache is on. Over bad blocks
         * (only a recovery mapping reaches them) it is pmem_recovery_write: whole pages are cleared
         * of poison and of their bad-block entries, then written; anything else writes nothing.
         */
        @Override
        public long copyFromIter(long pgoff, MemorySegment addr, long offset, long bytes, IovIter iter) {
            if (!badBlocks.isEmpty()) {
                long inPage = offset & (Units.PAGE_SIZE - 1);
                long len = (inPage + bytes + Units.PAGE_SIZE - 1) & -(long) Units.PAGE_SIZE;
                long sector = pgoff << Units.PAGE_SECTORS_SHIFT;
                if (badBlocks.firstBad(sector, len >> Units.SECTOR_SHIFT) >= 0) {
                    if (inPage != 0 || (bytes & (Units.PAGE_SIZE - 1)) != 0) return 0;
                    long start = offset - inPage;
                    Poison.clear(addr, start, len);
                    long copied = iter.copyFromIterFlushcache(addr, offset, bytes);
                    badBlocks.clear(sector, len >> Units.SECTOR_SHIFT);
                    return copied;
                }
            }
            return dax.writeCache() ? iter.copyFromIterFlushcache(addr, offset, bytes) : iter.copyFromIter(addr, offset, bytes);
        }

        /** Called after stores through a mapping: forces the range, when there is a cache to write back. */
        @Override
        public void flush(long pgoff, MemorySegment addr, long offset, long bytes) {
            if (dax.writeCache()) Memory.writeback(addr, offset, bytes);
        }
    }

    @Override
    public String toString() {
        return name + " " + devt() + ": " + Units.humanSize(size) + (region != null ? " on " + region.name() : "")
                + (file() != null ? " file " + file() : " anonymous") + (volatileMemory ? " (volatile)" : "");
    }
}
