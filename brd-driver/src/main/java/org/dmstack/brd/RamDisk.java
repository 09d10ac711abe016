package org.dmstack.brd;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.Bio;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.Holes;
import org.dmstack.block.InPlaceRead;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.memory.PageStore;

/**
 * One RAM disk, ramN (1:N), like a brd_device: a block device over a sparse {@link PageStore}.
 * Pages are allocated by the first write to them; reads of pages never written return zeros;
 * DISCARD and WRITE_ZEROES are refused before they get here (EOPNOTSUPP: Linux 6.1's brd sets no
 * discard or write-zeroes limit). The block queue has no write cache
 * ("write through"); the DAX path hands out one page per direct_access and its DAX write cache is
 * off, so flushing does nothing. Its bios are not accounted: brd_submit_bio calls no
 * bio_start_io_acct, so ram0's stat stays zero (a mapped device over it counts its own).
 *
 * <p>The memory is the store's, not the disk's: a new RamDisk over the same store (after the
 * driver was stopped and started again) has the same contents.
 */
public final class RamDisk {
    private final PageStore store;
    private final GenDisk disk;
    private volatile boolean alive = true;

    RamDisk(String name, DevT devt, long sizeBytes, PageStore store) {
        this.store = store;
        this.disk = GenDisk.builder(name, devt, sizeBytes >> Units.SECTOR_SHIFT, this::submitBio)
                .limits(QueueLimits.of(Units.SECTOR_SIZE, Units.PAGE_SIZE))
                .writeCache(false, false)
                .dax(new Dax(), false)
                .inPlaceRead(new InPlace())
                .holes(new PageHoles())
                .build();
        disk.attributes().define("brd/pages", () -> Long.toString(store.pages()));
        disk.attributes().define("brd/mem_used", () -> Long.toString(store.bytesHeld()));
    }

    /** The block device, as the layers above see it. */
    public BlockDevice device() {
        return disk;
    }

    public String name() {
        return disk.name();
    }

    public DevT devt() {
        return disk.devt();
    }

    /** Size in bytes. */
    public long sizeBytes() {
        return disk.sizeBytes();
    }

    /** The memory this disk really holds: its allocated pages, in bytes. */
    public long bytesHeld() {
        return store.bytesHeld();
    }

    /** How many pages this disk holds. */
    public long pagesHeld() {
        return store.pages();
    }

    PageStore store() {
        return store;
    }

    /**
     * After this, bios are handed back undone (device-mapper resends them to the disk that takes
     * this one's place, others fail with IOERR) and DAX calls fail with ENXIO; the memory is left
     * alone, so a bio that got in before finishes as it would have.
     */
    void kill() {
        disk.del();
        alive = false;
        disk.dax().kill();
    }

    /** Called by GenDisk for every valid bio; completes it before returning. */
    private void submitBio(Bio bio) {
        if (!alive) {
            disk.handBack(bio);
            return;
        }
        long offset = bio.sector() << Units.SECTOR_SHIFT;
        switch (bio.op()) {
            case READ -> store.read(offset, bio.data(), 0, bio.size());
            case WRITE -> store.write(offset, bio.data(), 0, bio.size());
            case FLUSH -> { } // RAM has nothing to flush to
            // 6.1's brd sets no discard or write-zeroes limit: the block layer refuses those (EOPNOTSUPP).
            case DISCARD, WRITE_ZEROES -> throw new IllegalStateException(bio.op() + " reached brd");
        }
        bio.endio(BlkStatus.OK);
    }

    /** The store's pages read in place (an NBD reply sent from them); nothing once the disk is killed. */
    private final class InPlace implements InPlaceRead {
        @Override
        public boolean pin(long offset, long bytes, Consumer<MemorySegment> into) {
            return alive && store.pin(offset, bytes, into);
        }

        @Override
        public void unpin() {
            store.unpin();
        }
    }

    /**
     * Where the pages are: a page never written, or freed by a shrink, is a hole
     * (it reads as zeros and holds no memory); every page the store holds is data.
     */
    private final class PageHoles implements Holes {
        @Override
        public long seekData(long offset, long end) {
            return seek(offset, end, true);
        }

        @Override
        public long seekHole(long offset, long end) {
            return seek(offset, end, false);
        }

        /** The first byte in [offset, end) on a page that is (or is not) written; end when none. */
        private long seek(long offset, long end, boolean written) {
            if (offset >= end) return end;
            long page = store.seekPage(offset >>> Units.PAGE_SHIFT, (end + Units.PAGE_SIZE - 1) >>> Units.PAGE_SHIFT, written);
            return Math.clamp(page << Units.PAGE_SHIFT, offset, end);
        }
    }

    /**
     * brd's dax_operations: one page at a time, allocated on access. Copies are the plain ones
     * (RAM is as durable as it gets; reads machine-check safe like every DAX read) and there is
     * no cache to flush: the interface's defaults.
     */
    private final class Dax implements DaxOperations {
        /** Called for a DAX mapping: the page at pgoff, allocated if never written. */
        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            int slot;
            try {
                slot = store.slotForWrite(pgoff);
            } catch (IndexOutOfBoundsException e) {
                throw new DaxException(Errno.ERANGE, e.getMessage());
            } catch (IllegalStateException e) {
                throw new DaxException(Errno.EIO, e.getMessage());
            }
            // The page within its chunk: no segment of its own to make.
            MemorySegment chunk = store.chunk(slot);
            long offset = PageStore.offsetInChunk(slot);
            map.set(chunk, offset, (chunk.address() + offset) >>> Units.PAGE_SHIFT, 1);
        }
    }

    @Override
    public String toString() {
        return name() + " " + devt() + ": " + sizeBytes() / 1024 + " KiB, holds " + bytesHeld() + " bytes (" + pagesHeld() + " pages)";
    }
}
