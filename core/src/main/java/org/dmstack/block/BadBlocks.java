package org.dmstack.block;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Known-bad sector ranges of a device, as Linux's badblocks: kept merged and sorted, shown as
 * {@code <sector> <count>} lines in the {@code badblocks} attribute.
 */
public final class BadBlocks {
    /** A run of bad sectors. */
    public record Range(long sector, long count) {
        public long end() {
            return sector + count;
        }
    }

    private final TreeMap<Long, Long> ranges = new TreeMap<>(); // start -> end (exclusive)
    private volatile boolean empty = true;

    /** Marks {@code count} sectors from {@code sector} bad. */
    public synchronized void set(long sector, long count) {
        check(sector, count);
        if (count == 0) return;
        long start = sector, end = sector + count;
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        for (Map.Entry<Long, Long> e = ranges.ceilingEntry(start); e != null && e.getKey() <= end; e = ranges.ceilingEntry(start)) {
            end = Math.max(end, e.getValue());
            ranges.remove(e.getKey());
        }
        ranges.put(start, end);
        empty = false;
    }

    /** Forgets bad sectors in [sector, sector + count), splitting ranges as needed. */
    public synchronized void clear(long sector, long count) {
        check(sector, count);
        long end = sector + count;
        List<Range> overlapping = overlaps(sector, count);
        for (Range r : overlapping) {
            ranges.remove(r.sector());
            if (r.sector() < sector) ranges.put(r.sector(), sector);
            if (r.end() > end) ranges.put(end, r.end());
        }
        empty = ranges.isEmpty();
    }

    /** True when any sector of [sector, sector + count) is bad. Cheap when there are none. */
    public boolean isBad(long sector, long count) {
        if (empty) return false;
        return firstBad(sector, count) >= 0;
    }

    /** The first bad sector in [sector, sector + count), or -1. */
    public synchronized long firstBad(long sector, long count) {
        Map.Entry<Long, Long> before = ranges.floorEntry(sector);
        if (before != null && before.getValue() > sector) return sector;
        Long next = ranges.ceilingKey(sector);
        return next != null && next < sector + count ? next : -1;
    }

    /** The bad ranges that overlap [sector, sector + count), whole. */
    public synchronized List<Range> overlaps(long sector, long count) {
        List<Range> out = new ArrayList<>();
        Map.Entry<Long, Long> before = ranges.floorEntry(sector);
        if (before != null && before.getValue() > sector) out.add(new Range(before.getKey(), before.getValue() - before.getKey()));
        for (Map.Entry<Long, Long> e : ranges.subMap(sector, false, sector + count, false).entrySet()) {
            out.add(new Range(e.getKey(), e.getValue() - e.getKey()));
        }
        return out;
    }

    public synchronized List<Range> ranges() {
        List<Range> out = new ArrayList<>();
        ranges.forEach((s, e) -> out.add(new Range(s, e - s)));
        return out;
    }

    public boolean isEmpty() {
        return empty;
    }

    /** The sysfs form: one {@code <sector> <count>} line per range. */
    public String show() {
        StringBuilder sb = new StringBuilder();
        for (Range r : ranges()) sb.append(r.sector()).append(' ').append(r.count()).append('\n');
        return sb.toString();
    }

    private static void check(long sector, long count) {
        if (sector < 0 || count < 0) throw new IllegalArgumentException("Invalid bad block range " + sector + " +" + count);
    }
}
