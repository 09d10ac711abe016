package org.dmstack.dm.linear;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmstack.block.Bio;
import org.dmstack.block.BioHandler;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.block.Units;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.iov.IovIter;

/**
 * A RAM disk for tests until the brd driver lands: ramN (1:N) over native memory, with a write
 * cache (so flushes reach it and are counted), DAX, a log of what it was asked to do, and a
 * switch that makes every later bio fail with IOERR.
 */
final class RamDevice implements BioHandler, DaxOperations {
    final MemorySegment memory;
    final GenDisk disk;
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger daxFlushes = new AtomicInteger();
    /** "WRITE 16+8", "DISCARD 0+64": every bio that got here (flushes are only counted). */
    final List<String> log = new CopyOnWriteArrayList<>();
    volatile boolean failing;
    /** When set, bios are done and ended on this executor's threads, not the submitter's. */
    volatile Executor async;

    private RamDevice(int n, long sectors, boolean dax) {
        memory = Arena.ofAuto().allocate(sectors << Units.SECTOR_SHIFT, Units.PAGE_SIZE);
        GenDisk.Builder b = GenDisk.builder("ram" + n, new DevT(DevT.RAMDISK_MAJOR, n), sectors, this)
                .limits(QueueLimits.of(512, 4096))
                .writeCache(true, false);
        if (dax) b.dax(this, false);
        disk = b.build();
    }

    /** ramN of {@code sectors} sectors, DAX-capable, added to {@code registry}. */
    static RamDevice add(BlockDeviceRegistry registry, int n, long sectors) {
        return add(registry, n, sectors, true);
    }

    static RamDevice add(BlockDeviceRegistry registry, int n, long sectors, boolean dax) {
        RamDevice ram = new RamDevice(n, sectors, dax);
        registry.add(ram.disk);
        return ram;
    }

    /** The bytes of {@code sectors} sectors from {@code sector}. */
    MemorySegment sectors(long sector, long sectors) {
        return memory.asSlice(sector << Units.SECTOR_SHIFT, sectors << Units.SECTOR_SHIFT);
    }

    @Override
    public void submitBio(Bio bio) {
        Executor executor = async;
        if (executor != null) executor.execute(() -> handle(bio));
        else handle(bio);
    }

    private void handle(Bio bio) {
        if (failing) {
            bio.endio(BlkStatus.ioerr(disk.name() + ": injected I/O error"));
            return;
        }
        switch (bio.op()) {
            case FLUSH -> flushes.incrementAndGet();
            case READ -> bio.data().copyFrom(sectors(bio.sector(), bio.sectors()));
            case WRITE -> sectors(bio.sector(), bio.sectors()).copyFrom(bio.data());
            case DISCARD, WRITE_ZEROES -> sectors(bio.sector(), bio.sectors()).fill((byte) 0);
        }
        if (bio.op() != BioOp.FLUSH) log.add(bio.op() + " " + bio.sector() + "+" + bio.sectors());
        bio.endio(BlkStatus.OK);
    }

    @Override
    public DaxMapping directAccess(long pgoff, long nrPages) {
        long pages = memory.byteSize() >> Units.PAGE_SHIFT;
        return new DaxMapping(memory.asSlice(pgoff << Units.PAGE_SHIFT), pgoff, pages - pgoff);
    }

    @Override
    public long copyFromIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        return iter.copyFromIter(addr, bytes);
    }

    @Override
    public long copyToIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        return iter.copyToIterMcsafe(addr, bytes);
    }

    @Override
    public void flush(long pgoff, MemorySegment addr, long size) {
        daxFlushes.incrementAndGet();
    }
}
