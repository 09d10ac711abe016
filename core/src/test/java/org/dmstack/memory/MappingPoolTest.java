package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class MappingPoolTest {
    private static MappingPool.Mapping mapping() {
        Arena arena = Arena.ofShared();
        return new MappingPool.Mapping(arena.allocate(4096), arena, false, null);
    }

    @Test
    void aMappingIsTakenBackOnce() {
        MappingPool pool = new MappingPool(MappingPool.KEEP_MILLIS);
        MappingPool.Mapping m = mapping();
        pool.put("file", m);
        assertNull(pool.take("other"));
        assertSame(m, pool.take("file"));
        assertNull(pool.take("file"));
        assertTrue(m.arena().scope().isAlive(), "taken back, still mapped");
        m.arena().close();
    }

    @Test
    void aSecondMappingUnderTheSameKeyUnmapsTheFirst() {
        MappingPool pool = new MappingPool(MappingPool.KEEP_MILLIS);
        MappingPool.Mapping first = mapping(), second = mapping();
        pool.put("file", first);
        pool.put("file", second);
        assertFalse(first.arena().scope().isAlive());
        assertSame(second, pool.take("file"));
        second.arena().close();
    }

    @Test
    void aMappingNobodyTakesBackIsUnmapped() throws InterruptedException {
        MappingPool pool = new MappingPool(0);
        MappingPool.Mapping m = mapping();
        pool.put("file", m);
        for (int i = 0; i < 500 && m.arena().scope().isAlive(); i++) Thread.sleep(10);
        assertEquals(0, pool.size());
        assertFalse(m.arena().scope().isAlive());
    }
}
