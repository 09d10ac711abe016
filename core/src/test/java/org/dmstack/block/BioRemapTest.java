package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.mockito.Mockito.mock;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class BioRemapTest {
    private final BlockDevice below = mock(BlockDevice.class);

    @Test
    void aDiscardCanBeNarrowedOnRemap() {
        Bio discard = Bio.discard(100, 64 * 512);
        discard.remap(below, 8, 16 * 512);
        assertSame(below, discard.device());
        assertEquals(8, discard.sector());
        assertEquals(16, discard.sectors());
    }

    @Test
    void aBioWithDataKeepsItsSize() {
        Bio write = Bio.write(0, MemorySegment.ofArray(new byte[4096]));
        assertThrows(IllegalArgumentException.class, () -> write.remap(below, 0, 512));
    }

    @Test
    void theNewSizeIsWholeSectorsAndNoLarger() {
        Bio zeroes = Bio.writeZeroes(0, 8 * 512);
        assertThrows(IllegalArgumentException.class, () -> zeroes.remap(below, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> zeroes.remap(below, 0, 100));
        assertThrows(IllegalArgumentException.class, () -> zeroes.remap(below, 0, 9 * 512));
        assertEquals(8 * 512, zeroes.size());
    }
}
