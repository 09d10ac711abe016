package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
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
}
