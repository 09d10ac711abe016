package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Copies of several pages, plain and machine-check safe: every byte lands where it should, and no other. */
class MemoryCopyTest {
    @Test
    void aCopyOfSeveralPagesFromAnOddOffsetIsByteExact() {
        try (Arena arena = Arena.ofConfined()) {
            int len = 3 * 4096 + 100;
            MemorySegment src = arena.allocate(5 * 4096, 4096);
            for (int i = 0; i < src.byteSize(); i++) src.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 7 + 3));
            byte[] dst = new byte[len + 20];
            Memory.copy(src, 1000, MemorySegment.ofArray(dst), 10, len);
            byte[] expected = new byte[len + 20];
            MemorySegment.copy(src, 1000, MemorySegment.ofArray(expected), 10, len);
            assertArrayEquals(expected, dst);
            assertEquals(0, dst[9], "nothing before");
            assertEquals(0, dst[len + 10], "nothing after");

            byte[] back = new byte[len];
            assertEquals(len, Memory.copyMcsafe(src, 1000, MemorySegment.ofArray(back), 0, len));
            assertArrayEquals(Arrays.copyOfRange(expected, 10, 10 + len), back);
        }
    }

    @Test
    void aMachineCheckSafeCopyOfSeveralPagesStopsAtThePoisonedLine() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4 * 4096, 4096).fill((byte) 5);
            Poison.inject(src, 2 * 4096 + 200, 1);
            try {
                byte[] dst = new byte[4 * 4096];
                assertEquals(2 * 4096 + 192, Memory.copyMcsafe(src, 0, MemorySegment.ofArray(dst), 0, dst.length));
                assertEquals(5, dst[2 * 4096 + 191]);
                assertEquals(0, dst[2 * 4096 + 192], "not a byte of the poisoned line");
            } finally {
                Poison.clearAll(src);
            }
        }
    }
}
