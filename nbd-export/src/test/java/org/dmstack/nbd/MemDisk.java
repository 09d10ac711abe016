package org.dmstack.nbd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.dmstack.block.Bio;
import org.dmstack.block.BioHandler;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BioOp;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;

/**
 * A RAM disk for tests: contents in a memory segment that outlives the device (so a "new"
 * device after a hot swap sees the same data), every bio recorded, and bios that match a
 * predicate held until released (as a mapped device holds them during a swap).
 */
final class MemDisk implements BioHandler {
    final MemorySegment memory;
    final List<String> log = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Bio> held = new ConcurrentLinkedQueue<>();
    private volatile Predicate<Bio> hold = b -> false;
    volatile boolean discardSupported = true;
    volatile boolean writeZeroesSupported = true;
    GenDisk disk;

    MemDisk(long bytes) {
        this.memory = Arena.ofShared().allocate(bytes);
    }

    /** A device named {@code name} over this memory. */
    GenDisk device(String name, DevT devt, boolean writeCache, boolean fua, QueueLimits limits) {
        // The limits offer DISCARD and WRITE_ZEROES, or the block layer would refuse them first: the flags above decide.
        QueueLimits offered = limits.copy().setDiscard(QueueLimits.UNLIMITED, limits.physicalBlockSize()).setMaxWriteZeroesSectors(QueueLimits.UNLIMITED);
        disk = GenDisk.builder(name, devt, memory.byteSize() >> Units.SECTOR_SHIFT, this).writeCache(writeCache, fua).limits(offered).build();
        return disk;
    }

    static MemDisk of(String name, int minor, long bytes) {
        MemDisk m = new MemDisk(bytes);
        m.device(name, new DevT(DevT.RAMDISK_MAJOR, minor), false, false, QueueLimits.of(512, 512).setMaxSectors(2560));
        return m;
    }

    synchronized void holdWhen(Predicate<Bio> p) {
        hold = p;
    }

    /** Completes every held bio. */
    synchronized void release() {
        hold = b -> false;
        Bio b;
        while ((b = held.poll()) != null) execute(b);
    }

    /** Ends every held bio with an I/O error, as a device torn down under them does. */
    synchronized void failHeld() {
        hold = b -> false;
        Bio b;
        while ((b = held.poll()) != null) b.endio(BlkStatus.ioerr("device removed"));
    }

    int heldCount() {
        return held.size();
    }

    @Override
    public void submitBio(Bio bio) {
        synchronized (this) {
            if (hold.test(bio)) {
                held.add(bio);
                return;
            }
        }
        execute(bio);
    }

    private void execute(Bio bio) {
        log.add(bio.op() + (bio.flags().isEmpty() ? "" : bio.flags().toString()) + " " + bio.sector() + " " + bio.size());
        long at = bio.sector() << Units.SECTOR_SHIFT;
        switch (bio.op()) {
            case READ -> MemorySegment.copy(memory, at, bio.data(), 0, bio.size());
            case WRITE -> MemorySegment.copy(bio.data(), 0, memory, at, bio.size());
            case FLUSH -> { }
            case DISCARD -> {
                if (!discardSupported) {
                    bio.endio(BlkStatus.notsupp("no discard"));
                    return;
                }
                memory.asSlice(at, bio.size()).fill((byte) 0);
            }
            case WRITE_ZEROES -> {
                if (!writeZeroesSupported) {
                    bio.endio(BlkStatus.notsupp("no write zeroes"));
                    return;
                }
                memory.asSlice(at, bio.size()).fill((byte) 0);
            }
        }
        bio.endio(BlkStatus.OK);
    }

    long count(BioOp op) {
        return log.stream().filter(s -> s.startsWith(op.name())).count();
    }
}
