package org.dmstack.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import org.dmstack.units.Units;

/**
 * Poisoned memory: cache lines that hold a media error, as the CPU sees them. Poison belongs to
 * the memory, not to a device: it is kept by native address, so every mapping of the same memory
 * sees it, whichever layer reads. Only native segments can be poisoned.
 *
 * <p>Drivers inject poison to emulate media errors (and clear it when a write repairs the
 * memory); {@link Memory} consults it on every copy.
 */
public final class Poison {
    private static final ConcurrentSkipListMap<Long, Long> LINES = new ConcurrentSkipListMap<>(); // start -> end, cache-line aligned
    private static volatile boolean any;

    private Poison() {}

    /** Poisons every cache line that overlaps {@code [offset, offset + length)} of {@code segment}. */
    public static synchronized void inject(MemorySegment segment, long offset, long length) {
        long start = alignDown(address(segment, offset, length));
        long end = alignUp(segment.address() + offset + length);
        Map.Entry<Long, Long> before = LINES.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Long, Long> e = LINES.ceilingEntry(start); e != null && e.getKey() <= end; e = LINES.ceilingEntry(start)) {
            end = Math.max(end, e.getValue());
            LINES.remove(e.getKey());
        }
        LINES.put(start, end);
        any = true;
    }

    /** Clears poison from the cache lines that lie wholly inside {@code [offset, offset + length)}. */
    public static synchronized void clear(MemorySegment segment, long offset, long length) {
        long start = alignUp(address(segment, offset, length));
        long end = alignDown(segment.address() + offset + length);
        if (end > start) removeRange(start, end);
    }

    /** Clears all poison in a segment (its memory is being freed). */
    public static synchronized void clearAll(MemorySegment segment) {
        if (segment.isNative() && segment.byteSize() > 0) removeRange(segment.address(), segment.address() + segment.byteSize());
    }

    private static void removeRange(long start, long end) {
        Map.Entry<Long, Long> before = LINES.lowerEntry(start);
        if (before != null && before.getValue() > start) {
            LINES.put(before.getKey(), start);
            if (before.getValue() > end) LINES.put(end, before.getValue());
        }
        for (Map.Entry<Long, Long> e : new ArrayList<>(LINES.subMap(start, true, end, false).entrySet())) {
            LINES.remove(e.getKey());
            if (e.getValue() > end) LINES.put(end, e.getValue());
        }
        any = !LINES.isEmpty();
    }

    /**
     * The offset, relative to {@code offset}, of the first poisoned byte that a read of
     * {@code [offset, offset + length)} would touch, or -1 when the range is clean. Because poison
     * covers whole cache lines, a result above 0 is where a copy must stop.
     */
    public static long firstPoisoned(MemorySegment segment, long offset, long length) {
        if (!any || length <= 0 || !segment.isNative()) return -1;
        long start = segment.address() + offset;
        long end = start + length;
        Map.Entry<Long, Long> before = LINES.floorEntry(start);
        if (before != null && before.getValue() > start) return 0;
        Long next = LINES.ceilingKey(start);
        return next != null && next < end ? next - start : -1;
    }

    public static boolean isPoisoned(MemorySegment segment, long offset, long length) {
        return firstPoisoned(segment, offset, length) >= 0;
    }

    /** True when any memory is poisoned at all: the fast path of every copy. */
    public static boolean any() {
        return any;
    }

    private static long address(MemorySegment segment, long offset, long length) {
        if (!segment.isNative()) throw new IllegalArgumentException("Only native memory can be poisoned");
        if (offset < 0 || length < 0 || offset + length > segment.byteSize()) {
            throw new IndexOutOfBoundsException("poison range " + offset + "+" + length + " outside a segment of " + segment.byteSize());
        }
        return segment.address() + offset;
    }

    private static long alignDown(long address) {
        return address & -Units.CACHE_LINE;
    }

    private static long alignUp(long address) {
        return (address + Units.CACHE_LINE - 1) & -Units.CACHE_LINE;
    }
}
