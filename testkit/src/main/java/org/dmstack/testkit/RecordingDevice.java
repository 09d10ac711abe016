package org.dmstack.testkit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioHandler;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;

/**
 * An in-memory device that records what reached it: every bio (op, sector, length, flags) and
 * every DAX call (which pages). Use it under a target to assert exactly which sectors and pages
 * the target touched; switch {@link #failIo(boolean)} on to make it fail I/O.
 *
 * <pre>{@code
 * RecordingDevice ram0 = RecordingDevice.builder("ram0", 1, 0).sectors(2048).build();
 * ... write through the target ...
 * assertEquals(List.of(new RecordedBio(BioOp.WRITE, 100, 8, Set.of())), ram0.bios());
 * }</pre>
 */
public final class RecordingDevice implements BioHandler, DaxOperations {
    /** A bio as the device saw it. */
    public record RecordedBio(BioOp op, long sector, long sectors, Set<BioFlag> flags) {
        @Override
        public String toString() {
            return op + " " + sector + "+" + sectors + (flags.isEmpty() ? "" : " " + flags);
        }
    }

    /** A DAX call as the device saw it: the kind ("direct_access", "copy_from_iter", "copy_to_iter", "flush") and its first page. */
    public record DaxAccess(String call, long pgoff, long bytesOrPages) {}

    private final MemorySegment memory;
    private final GenDisk disk;
    private final List<RecordedBio> bios = Collections.synchronizedList(new ArrayList<>());
    private final List<DaxAccess> daxAccesses = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean failIo;
    private volatile Executor async;

    private RecordingDevice(Builder b) {
        memory = Arena.ofAuto().allocate(b.sectors * Units.SECTOR_SIZE, Units.PAGE_SIZE);
        GenDisk.Builder g = GenDisk.builder(b.name, b.devt, b.sectors, this)
                .limits(limits(b))
                .writeCache(b.writeCache, b.writeCache && b.fua);
        if (b.dax) g.dax(this, b.writeCache);
        disk = g.build();
    }

    /** Its block sizes, and DISCARD and WRITE_ZEROES offered when asked (the block layer refuses them otherwise). */
    private static QueueLimits limits(Builder b) {
        QueueLimits l = QueueLimits.of(b.logicalBlockSize, Math.max(b.logicalBlockSize, Units.PAGE_SIZE));
        if (b.discard) l.setDiscard(QueueLimits.UNLIMITED, l.physicalBlockSize()).setMaxWriteZeroesSectors(QueueLimits.UNLIMITED);
        return l;
    }

    /**
     * ramN (1:N) of {@code sectors} sectors with a write cache (so flushes reach it and can be
     * counted), DAX-capable or not, added to {@code registry}.
     */
    public static RecordingDevice ram(BlockDeviceRegistry registry, int n, long sectors, boolean dax) {
        RecordingDevice d = builder("ram" + n, DevT.RAMDISK_MAJOR, n).sectors(sectors).writeCache(true).fua(false).dax(dax).build();
        registry.add(d.device());
        return d;
    }

    public static Builder builder(String name, int major, int minor) {
        return new Builder(name, new DevT(major, minor));
    }

    public static final class Builder {
        private final String name;
        private final DevT devt;
        private long sectors = 2048;
        private boolean writeCache;
        private boolean fua = true;
        private boolean dax = true;
        private int logicalBlockSize = Units.SECTOR_SIZE;
        private boolean discard = true;

        private Builder(String name, DevT devt) {
            this.name = name;
            this.devt = devt;
        }

        public Builder sectors(long sectors) {
            this.sectors = sectors;
            return this;
        }

        /** A queue write cache ("write back", so flushes are sent) and a DAX write cache. */
        public Builder writeCache(boolean writeCache) {
            this.writeCache = writeCache;
            return this;
        }

        public Builder fua(boolean fua) {
            this.fua = fua;
            return this;
        }

        public Builder dax(boolean dax) {
            this.dax = dax;
            return this;
        }

        /** Offers DISCARD and WRITE_ZEROES (discard_max_bytes, write_zeroes_max_bytes), as it does unless told not to. */
        public Builder discard(boolean discard) {
            this.discard = discard;
            return this;
        }

        public Builder logicalBlockSize(int bytes) {
            this.logicalBlockSize = bytes;
            return this;
        }

        public RecordingDevice build() {
            return new RecordingDevice(this);
        }
    }

    /** The block device to put in a registry or hand to a target. */
    public BlockDevice device() {
        return disk;
    }

    public String name() {
        return disk.name();
    }

    /** The device's memory; byte {@code sector * 512} is sector {@code sector}. */
    public MemorySegment memory() {
        return memory;
    }

    public List<RecordedBio> bios() {
        synchronized (bios) {
            return List.copyOf(bios);
        }
    }

    public List<DaxAccess> daxAccesses() {
        synchronized (daxAccesses) {
            return List.copyOf(daxAccesses);
        }
    }

    /** Every bio but the flushes, as "WRITE 16+8" (with flags when it had any). */
    public List<String> log() {
        return bios().stream().filter(b -> b.op() != BioOp.FLUSH).map(RecordedBio::toString).toList();
    }

    /** The memory of {@code count} sectors from {@code sector}. */
    public MemorySegment sectors(long sector, long count) {
        return memory.asSlice(sector * Units.SECTOR_SIZE, count * Units.SECTOR_SIZE);
    }

    /** From now on, bios are done and ended on {@code executor}'s threads, not the submitter's (null: inline). */
    public void async(Executor executor) {
        this.async = executor;
    }

    /** How many bios of {@code op} (or with PREFLUSH, for FLUSH) arrived. */
    public long count(BioOp op) {
        return bios().stream().filter(b -> b.op() == op || (op == BioOp.FLUSH && b.flags().contains(BioFlag.PREFLUSH))).count();
    }

    /** Forgets what was recorded so far. */
    public void clear() {
        bios.clear();
        daxAccesses.clear();
    }

    /** From now on, every bio but an empty flush fails with IOERR (a media or transport error). */
    public void failIo(boolean fail) {
        this.failIo = fail;
    }

    public byte[] read(long sector, int sectors) {
        return memory.asSlice(sector * Units.SECTOR_SIZE, (long) sectors * Units.SECTOR_SIZE).toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void submitBio(Bio bio) {
        Executor executor = async;
        if (executor != null) executor.execute(() -> handle(bio));
        else handle(bio);
    }

    private void handle(Bio bio) {
        bios.add(new RecordedBio(bio.op(), bio.sector(), bio.sectors(), Set.copyOf(bio.flags())));
        if (failIo && bio.op() != BioOp.FLUSH) {
            bio.endio(BlkStatus.ioerr(disk.name() + ": I/O error injected by the test"));
            return;
        }
        long at = bio.sector() * Units.SECTOR_SIZE;
        switch (bio.op()) {
            case READ -> Memory.copy(memory, at, bio.data(), 0, bio.size());
            case WRITE -> MemorySegment.copy(bio.data(), 0, memory, at, bio.size());
            case DISCARD, WRITE_ZEROES -> memory.asSlice(at, bio.size()).fill((byte) 0);
            case FLUSH -> {}
        }
        bio.endio(BlkStatus.OK);
    }

    @Override
    public void directAccess(long pgoff, long nrPages, DaxMapping map) {
        daxAccesses.add(new DaxAccess("direct_access", pgoff, nrPages));
        long pages = memory.byteSize() / Units.PAGE_SIZE - pgoff;
        map.set(memory, pgoff * Units.PAGE_SIZE, memory.address() / Units.PAGE_SIZE + pgoff, pages);
    }

    @Override
    public long copyFromIter(long pgoff, MemorySegment addr, long offset, long bytes, IovIter iter) {
        daxAccesses.add(new DaxAccess("copy_from_iter", pgoff, bytes));
        return iter.copyFromIter(addr, offset, bytes);
    }

    @Override
    public long copyToIter(long pgoff, MemorySegment addr, long offset, long bytes, IovIter iter) {
        daxAccesses.add(new DaxAccess("copy_to_iter", pgoff, bytes));
        return iter.copyToIterMcsafe(addr, offset, bytes);
    }

    @Override
    public void flush(long pgoff, MemorySegment addr, long offset, long bytes) {
        daxAccesses.add(new DaxAccess("flush", pgoff, bytes));
    }

    @Override
    public String toString() {
        return disk.toString();
    }
}
