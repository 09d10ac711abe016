package org.dmstack.nbd.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A backend over memory for the server's tests: every operation done at once and logged (or
 * writes parked, as a device holding bios), or turned down once {@link #withdraw withdrawn}; the memory can outlive it (a "new" backend
 * after a swap over the same memory sees the same data).
 */
public final class MemBackend implements Backend {
    final MemorySegment memory;
    final String name;
    final List<String> log = new CopyOnWriteArrayList<>();
    /** Writes taken but not done while {@link #parkWrites} is on (a device holding them). */
    final Queue<Done> parked = new ConcurrentLinkedQueue<>();
    volatile boolean parkWrites;
    private volatile boolean withdrawn;
    /** The 512-byte sectors that hold data, as {@link #seekHole} and {@link #seekData} tell them; null: it cannot tell. */
    volatile BitSet dataSectors;
    volatile int minBlock = 512;
    volatile int preferredBlock = 4096;

    MemBackend(String name, MemorySegment memory) {
        this.name = name;
        this.memory = memory;
    }

    public MemBackend(String name, long bytes) {
        this(name, Arena.ofShared().allocate(bytes));
    }

    void withdraw() {
        withdrawn = true;
    }

    @Override
    public String description() {
        return name + " (memory)";
    }

    @Override
    public long size() {
        return memory.byteSize();
    }

    @Override
    public int minBlockSize() {
        return minBlock;
    }

    @Override
    public int preferredBlockSize() {
        return preferredBlock;
    }

    @Override
    public boolean writeCache() {
        return true;
    }

    @Override
    public boolean read(long offset, MemorySegment into, Done done) {
        if (withdrawn) return false;
        log.add("read " + offset + " " + into.byteSize());
        MemorySegment.copy(memory, offset, into, 0, into.byteSize());
        done.done(0, null);
        return true;
    }

    @Override
    public boolean write(long offset, MemorySegment from, boolean fua, Done done) {
        if (withdrawn) return false;
        if (parkWrites) {
            log.add("parked write " + offset + " " + from.byteSize());
            parked.add(done);
            return true;
        }
        log.add("write " + offset + " " + from.byteSize() + (fua ? " fua" : ""));
        MemorySegment.copy(from, 0, memory, offset, from.byteSize());
        done.done(0, null);
        return true;
    }

    @Override
    public boolean flush(Done done) {
        if (withdrawn) return false;
        log.add("flush");
        done.done(0, null);
        return true;
    }

    @Override
    public boolean trim(long offset, long length, boolean fua, Done done) {
        if (withdrawn) return false;
        log.add("trim " + offset + " " + length);
        done.done(0, null);
        return true;
    }

    @Override
    public boolean writeZeroes(long offset, long length, boolean fua, boolean noHole, Done done) {
        if (withdrawn) return false;
        log.add("zeroes " + offset + " " + length);
        memory.asSlice(offset, length).fill((byte) 0);
        done.done(0, null);
        return true;
    }

    @Override
    public long seekHole(long offset, long end) {
        BitSet data = dataSectors;
        return data == null ? end : Math.clamp((long) data.nextClearBit((int) (offset >> 9)) << 9, offset, end);
    }

    @Override
    public long seekData(long offset, long end) {
        BitSet data = dataSectors;
        if (data == null) return offset;
        int sector = data.nextSetBit((int) (offset >> 9));
        return sector < 0 ? end : Math.clamp((long) sector << 9, offset, end);
    }
}
