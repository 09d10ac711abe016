package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PageTableTest {
    @Test
    void pagesAtAnyIndexAreFoundRemovedAndListedInOrder() {
        PageTable<String> t = new PageTable<>();
        long[] indexes = {(1L << 40) + 3, 0, 511, 512, 262_144, 1L << 28};
        for (long i : indexes) t.put(i, "p" + i);
        assertEquals(6, t.size());
        for (long i : indexes) assertEquals("p" + i, t.get(i));
        assertNull(t.get(1), "never put");
        assertNull(t.get(1L << 41), "beyond every level");
        assertNull(t.get(-1));
        List<Long> listed = new ArrayList<>();
        t.forEachIndex(listed::add);
        assertEquals(List.of(0L, 511L, 512L, 262_144L, 1L << 28, (1L << 40) + 3), listed);
        assertEquals("p512", t.remove(512));
        assertNull(t.remove(512));
        assertNull(t.get(512));
        assertEquals(5, t.size());
        t.put(0, "again");
        assertEquals(5, t.size(), "replacing is not adding");
        t.clear();
        assertEquals(0, t.size());
        assertNull(t.get(0));
    }
}
