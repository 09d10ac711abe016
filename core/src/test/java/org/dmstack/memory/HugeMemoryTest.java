package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class HugeMemoryTest {
    @Test
    void memoryIsZeroedAlignedToAHugePageAndGoesWithItsArena() {
        Arena arena = Arena.ofShared();
        MemorySegment m = HugeMemory.allocate(arena, 2 * HugeMemory.HUGE_PAGE_SIZE);
        assertEquals(2 * HugeMemory.HUGE_PAGE_SIZE, m.byteSize());
        if (System.getProperty("os.name").toLowerCase().contains("linux")) assertEquals(0, m.address() % HugeMemory.HUGE_PAGE_SIZE);
        assertEquals(-1, m.mismatch(MemorySegment.ofArray(new byte[(int) m.byteSize()])), "all zeros");
        m.set(ValueLayout.JAVA_LONG, m.byteSize() - 8, 42);
        assertEquals(42, m.get(ValueLayout.JAVA_LONG, m.byteSize() - 8));
        arena.close();
        assertThrows(IllegalStateException.class, () -> m.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void onlyWholeHugePages() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> HugeMemory.allocate(arena, 4096));
            assertThrows(IllegalArgumentException.class, () -> HugeMemory.allocate(arena, 0));
        }
    }
}
