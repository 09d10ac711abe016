package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PageTableTest {
    @Test
    void pagesAtAnyIndexAreFoundRemovedAndListedInOrder() {
        PageTable t = new PageTable();
        long[] indexes = {(1L << 40) + 3, 0, 511, 512, 262_144, 1L << 28};
        for (long i : indexes) t.put(i, (int) (i % 1000) + 1);
        assertEquals(6, t.size());
        for (long i : indexes) assertEquals((int) (i % 1000) + 1, t.get(i));
        assertEquals(0, t.get(1), "never put");
        assertEquals(0, t.get(1L << 41), "beyond every level");
        assertEquals(0, t.get(-1));
        List<Long> listed = new ArrayList<>();
        t.forEachIndex(listed::add);
        assertEquals(List.of(0L, 511L, 512L, 262_144L, 1L << 28, (1L << 40) + 3), listed);
        assertEquals(513, t.remove(512));
        assertEquals(0, t.remove(512));
        assertEquals(0, t.get(512));
        assertEquals(5, t.size());
        t.put(0, 7);
        assertEquals(5, t.size(), "replacing is not adding");
        assertThrows(IllegalArgumentException.class, () -> t.put(3, 0), "0 is an empty slot");
        t.clear();
        assertEquals(0, t.size());
        assertEquals(0, t.get(0));
    }

    @Test
    void seekFindsTheNextFullOrEmptySlotAsAScanWould() {
        PageTable t = new PageTable();
        assertEquals(100, t.seek(0, 100, true), "an empty table has no data");
        assertEquals(0, t.seek(0, 100, false));
        long[] indexes = {3, 4, 5, 511, 512, 1023, 262_143, 262_144, 1L << 30};
        for (long i : indexes) t.put(i, 1);
        Set<Long> full = new HashSet<>();
        for (long i : indexes) full.add(i);
        long[] probes = {0, 3, 5, 6, 510, 511, 513, 1023, 1024, 200_000, 262_143, 262_145, (1L << 30) - 1, 1L << 30};
        long[] ends = {4, 600, 1024, 300_000, (1L << 30) + 1, 1L << 40};
        for (long from : probes) {
            for (long end : ends) {
                if (from > end) continue;
                assertEquals(scan(full, from, end, true), t.seek(from, end, true), "full from " + from + " to " + end);
                assertEquals(scan(full, from, end, false), t.seek(from, end, false), "empty from " + from + " to " + end);
            }
        }
        assertEquals(7, t.seek(7, 7, true), "an empty range");
        assertEquals(1L << 41, t.seek(1L << 41, 1L << 42, false), "beyond the tree: empty");
        assertEquals(1L << 42, t.seek(1L << 41, 1L << 42, true), "beyond the tree: nothing full");
        t.remove(4);
        assertEquals(4, t.seek(3, 10, false), "a removed slot is empty again");
        assertThrows(IndexOutOfBoundsException.class, () -> t.seek(-1, 10, true));
    }

    /**
     * Leaves filled with values in order (pages written in order) become runs: every lookup, listing
     * and seek answers as before, a removal or a replaced value splits the run back into a leaf, and
     * a leaf whose values do not run in order stays one.
     */
    @Test
    void leavesWhoseValuesRunInOrderAnswerAsLeavesDoAndSplitWhenAValueGoes() {
        PageTable t = new PageTable();
        for (long i = 0; i < 3 * 512; i++) t.put(i, (int) i + 1); // pages 0 to 1535 in slots 0 to 1535, in order
        for (long i = 1536; i < 2048; i++) t.put(i, (int) (2048 - i + 1536)); // leaf 3 full, but not in order
        t.put(5000, 9); // a lone page
        assertEquals(2049, t.size());
        for (long i = 0; i < 1536; i++) assertEquals((int) i + 1, t.get(i), "run, page " + i);
        for (long i = 1536; i < 2048; i++) assertEquals((int) (2048 - i + 1536), t.get(i), "leaf, page " + i);
        assertEquals(0, t.get(2048));
        List<Long> listed = new ArrayList<>();
        t.forEachIndex(listed::add);
        assertEquals(2049, listed.size());
        assertEquals(0L, listed.getFirst());
        assertEquals(5000L, listed.getLast());
        assertEquals(0, t.seek(0, 10_000, true));
        assertEquals(700, t.seek(700, 10_000, true), "inside a run");
        assertEquals(2048, t.seek(0, 10_000, false), "no empty slot in the runs or the full leaf");
        assertEquals(600, t.seek(600, 601, true));

        assertEquals(701, t.remove(700), "a removal splits the run");
        assertEquals(0, t.get(700));
        assertEquals(700, t.seek(0, 10_000, false));
        assertEquals(700, t.get(699));
        assertEquals(702, t.get(701));
        t.put(700, 701); // whole and in order again: a run again, answering the same
        assertEquals(701, t.get(700));
        assertEquals(2048, t.seek(0, 10_000, false));
        t.put(100, 42); // a replaced value splits it too
        assertEquals(42, t.get(100));
        assertEquals(102, t.get(101));
        assertEquals(2049, t.size());
    }

    /** What seek must answer, one index at a time (skipping the long empty stretches a scan would crawl). */
    private static long scan(Set<Long> full, long from, long end, boolean wantFull) {
        if (wantFull) {
            long best = end;
            for (long i : full) if (i >= from && i < best) best = i;
            return best;
        }
        for (long i = from; i < end; i++) if (!full.contains(i)) return i;
        return end;
    }
}
