package org.dmstack.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * File mappings by key, owned by core so that they outlive the driver that made them: a pmem
 * driver stopped for a bundle update leaves its mappings here and the new driver takes them back,
 * instead of unmapping the file and mapping it again while the stack above holds its I/O. A
 * mapping nobody takes back within {@link #KEEP_MILLIS} is unmapped; the file keeps what was
 * written either way.
 *
 * <p>Inside OSGi, drivers use {@link #shared()}; embedded programs and tests may make their own.
 */
public final class MappingPool {
    /** How long a mapping waits to be taken back before it is unmapped. */
    public static final long KEEP_MILLIS = 60_000;

    private static final MappingPool SHARED = new MappingPool(KEEP_MILLIS);

    /**
     * A mapping left by a driver: its memory, the arena that unmaps it, whether it is a
     * synchronous (MAP_SYNC) mapping, and the driver's record of what it wrote and has not forced
     * yet (null when it keeps none), so that a FLUSH after the handover still covers those writes.
     */
    public record Mapping(MemorySegment memory, Arena arena, boolean synchronous, AtomicLongArray unforced) {
        /**
         * Unmaps it for good. Writes the driver did not force are forced first: the marks that
         * named them go with the mapping, and a FLUSH on a later device over the file must still
         * cover them. The whole mapping is forced; this happens off the I/O path, rarely.
         */
        public void unmap() {
            if (unforced != null) Memory.writeback(memory, 0, memory.byteSize());
            arena.close();
        }
    }

    private final long keepMillis;
    private final Map<Object, Mapping> kept = new HashMap<>();

    /** @param keepMillis how long a mapping waits to be taken back */
    public MappingPool(long keepMillis) {
        this.keepMillis = keepMillis;
    }

    /** The pool of this JVM (of this core bundle, inside OSGi). */
    public static MappingPool shared() {
        return SHARED;
    }

    /** Leaves a mapping under {@code key} (a file's identity); one already there is unmapped. */
    public void put(Object key, Mapping mapping) {
        Mapping old;
        synchronized (this) {
            old = kept.put(key, mapping);
        }
        if (old != null) old.unmap();
        // The JDK's delay scheduler, not a thread of ours: nothing here outlives core.
        CompletableFuture.delayedExecutor(keepMillis, TimeUnit.MILLISECONDS).execute(() -> expire(key, mapping));
    }

    /** Takes back the mapping left under {@code key}; null when there is none. */
    public synchronized Mapping take(Object key) {
        return kept.remove(key);
    }

    /** The number of mappings waiting to be taken back. */
    public synchronized int size() {
        return kept.size();
    }

    private void expire(Object key, Mapping mapping) {
        synchronized (this) {
            if (!kept.remove(key, mapping)) return;
        }
        mapping.unmap();
    }
}
