package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** Poison covers whole cache lines, belongs to the memory, and is cleared line by line. */
class PoisonTest {
    @Test
    void injectClearAndFind() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(8192, 4096);
            MemorySegment alias = MemorySegment.ofAddress(m.address()).reinterpret(8192);
            Poison.inject(m, 130, 1);
            assertEquals(128, Poison.firstPoisoned(m, 0, 8192));
            assertEquals(0, Poison.firstPoisoned(m, 150, 10), "a read starting inside a poisoned line gets nothing");
            assertEquals(-1, Poison.firstPoisoned(m, 192, 1000));
            assertEquals(128, Poison.firstPoisoned(alias, 0, 8192), "any mapping of the same memory sees the poison");
            Poison.clear(m, 100, 60);
            assertEquals(128, Poison.firstPoisoned(m, 0, 8192), "a clear that does not cover the whole line leaves it poisoned");
            Poison.clear(m, 0, 512);
            assertEquals(-1, Poison.firstPoisoned(m, 0, 8192));
            Poison.inject(m, 1000, 2000);
            assertEquals(960 - 500, Poison.firstPoisoned(m, 500, 4000));
            assertEquals(500, Memory.copyMcsafe(m, 460, MemorySegment.ofArray(new byte[4000]), 0, 4000));
            assertThrows(MachineCheckError.class, () -> Memory.copy(m, 2900, MemorySegment.ofArray(new byte[200]), 0, 200));
            Poison.clearAll(m);
            assertEquals(-1, Poison.firstPoisoned(m, 0, 8192));
            assertThrows(IllegalArgumentException.class, () -> Poison.inject(MemorySegment.ofArray(new byte[64]), 0, 1));
        }
    }
}
