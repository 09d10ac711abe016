package org.dmstack.block;

import org.dmstack.units.Units;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.memory.Memory;

/** A test disk over native memory: block and DAX paths, counters (its stat among them), and a switch to fail I/O. */
public final class MemDisk implements BioHandler, DaxOperations {
    public final MemorySegment memory;
    public final GenDisk disk;
    public final AtomicInteger flushes = new AtomicInteger();
    public final AtomicInteger writes = new AtomicInteger();
    public final AtomicInteger daxFlushes = new AtomicInteger();
    public final AtomicLong bytesWritten = new AtomicLong();
    public volatile boolean failIo;
    /** Every bio the driver saw, as "OP sector+sectors[flags]". */
    public final List<String> log = Collections.synchronizedList(new ArrayList<>());
    public volatile boolean logging;

    public MemDisk(String name, DevT devt, long sectors) {
        this(name, devt, sectors, false, true);
    }

    public MemDisk(String name, DevT devt, long sectors, boolean writeCache, boolean dax) {
        this(name, devt, sectors, writeCache, dax, QueueLimits.of(512, 4096));
    }

    public MemDisk(String name, DevT devt, long sectors, boolean writeCache, boolean dax, QueueLimits limits) {
        memory = Arena.ofAuto().allocate(sectors * Units.SECTOR_SIZE, Units.PAGE_SIZE);
        // Accounted as pmem with queue/iostats set, so that tests see in its stat what reached it.
        GenDisk.Builder b = GenDisk.builder(name, devt, sectors, this).limits(limits).writeCache(writeCache, writeCache)
                .accounting(IoAccounting.IOSTATS, true);
        if (dax) b.dax(this, writeCache);
        disk = b.build();
    }

    @Override
    public void submitBio(Bio bio) {
        if (failIo && bio.op() != BioOp.FLUSH) {
            bio.endio(BlkStatus.ioerr(disk.name() + ": injected I/O error"));
            return;
        }
        if (logging) log.add(bio.op() + " " + bio.sector() + "+" + bio.sectors() + (bio.flags().isEmpty() ? "" : bio.flags().toString()));
        if (bio.hasFlag(BioFlag.PREFLUSH) || bio.op() == BioOp.FLUSH) flushes.incrementAndGet();
        long at = bio.sector() * Units.SECTOR_SIZE;
        switch (bio.op()) {
            case READ -> Memory.copy(memory, at, bio.data(), 0, bio.size());
            case WRITE -> {
                writes.incrementAndGet();
                bytesWritten.addAndGet(bio.size());
                MemorySegment.copy(bio.data(), 0, memory, at, bio.size());
            }
            case DISCARD, WRITE_ZEROES -> memory.asSlice(at, bio.size()).fill((byte) 0);
            case FLUSH -> {}
        }
        bio.endio(BlkStatus.OK);
    }

    @Override
    public void directAccess(long pgoff, long nrPages, DaxMapping map) {
        long pages = memory.byteSize() / Units.PAGE_SIZE - pgoff;
        map.set(memory, pgoff * Units.PAGE_SIZE, memory.address() / Units.PAGE_SIZE + pgoff, pages);
    }

    @Override
    public void flush(long pgoff, MemorySegment addr, long offset, long bytes) {
        daxFlushes.incrementAndGet();
    }

    public byte[] read(long byteOffset, int length) {
        return memory.asSlice(byteOffset, length).toArray(ValueLayout.JAVA_BYTE);
    }
}
