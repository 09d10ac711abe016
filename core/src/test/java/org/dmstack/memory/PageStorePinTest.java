package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dmstack.units.Units;
import org.junit.jupiter.api.Test;

/** {@link PageStore#pin}: memory read in place, never reused under the reader. */
class PageStorePinTest {
    private static final int PAGE = Units.PAGE_SIZE;

    private static byte[] page(int value) {
        byte[] b = new byte[PAGE];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static void write(PageStore store, long index, int value) {
        store.write(index * PAGE, MemorySegment.ofArray(page(value)), 0, PAGE);
    }

    private static byte[] bytes(List<MemorySegment> pieces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (MemorySegment m : pieces) out.writeBytes(m.toArray(ValueLayout.JAVA_BYTE));
        return out.toByteArray();
    }

    @Test
    void handsTheBytesInOrderWithHolesAsZerosAndPagesTogetherInOnePiece() {
        PageStore store = new PageStore("t", 64);
        write(store, 1, 1);
        write(store, 2, 2); // right after page 1 in its chunk
        write(store, 0, 7); // its slot comes after page 2's
        List<MemorySegment> pieces = new ArrayList<>();
        assertTrue(store.pin(100, 4 * PAGE - 200, pieces::add));
        byte[] expected = new byte[4 * PAGE];
        Arrays.fill(expected, 0, PAGE, (byte) 7);
        Arrays.fill(expected, PAGE, 2 * PAGE, (byte) 1);
        Arrays.fill(expected, 2 * PAGE, 3 * PAGE, (byte) 2); // page 3 never written: zeros
        assertArrayEquals(Arrays.copyOfRange(expected, 100, 4 * PAGE - 100), bytes(pieces));
        assertEquals(List.of(PAGE - 100L, 2L * PAGE, PAGE - 100L), pieces.stream().map(MemorySegment::byteSize).toList(),
                "page 0, pages 1 and 2 together, the hole");
        store.unpin();
        assertThrows(IndexOutOfBoundsException.class, () -> store.pin(60 * PAGE, 5 * PAGE, pieces::add));
    }

    @Test
    void aPageFreedWhilePinnedKeepsItsMemoryUntilTheLastPinGoes() {
        PageStore store = new PageStore("t", 64);
        write(store, 0, 5);
        List<MemorySegment> pieces = new ArrayList<>();
        assertTrue(store.pin(0, PAGE, pieces::add));
        assertTrue(store.pin(0, PAGE, m -> {}));
        store.zero(0, PAGE);
        assertEquals(0, store.pages(), "freed for everyone else at once");
        write(store, 1, 6); // must not take the pinned page's memory
        assertArrayEquals(page(5), bytes(pieces));
        store.unpin();
        write(store, 2, 8);
        assertArrayEquals(page(5), bytes(pieces), "one pin is still held");
        store.unpin();
        // Now the freed slot is reused, zeroed first.
        store.write(3 * PAGE, MemorySegment.ofArray(new byte[] {9}), 0, 1);
        assertEquals(9, pieces.getFirst().get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(0, pieces.getFirst().get(ValueLayout.JAVA_BYTE, 1));
        byte[] read = new byte[PAGE];
        store.read(0, MemorySegment.ofArray(read), 0, PAGE);
        assertArrayEquals(new byte[PAGE], read);
    }

    @Test
    void aLastPageFreedWhilePinnedKeepsItsChunkUntilUnpinned() {
        PageStore store = new PageStore("t", 64);
        write(store, 0, 3);
        List<MemorySegment> pieces = new ArrayList<>();
        assertTrue(store.pin(0, PAGE, pieces::add));
        store.free(0);
        assertEquals(PageStore.CHUNK_PAGES * (long) PAGE, store.bytesAllocated());
        assertArrayEquals(page(3), bytes(pieces));
        store.unpin();
        assertEquals(0, store.bytesAllocated());
        assertThrows(IllegalStateException.class, () -> bytes(pieces), "the chunk went back");
    }

    @Test
    void refusesWhileTooManyFreedPagesWaitForPins() {
        PageStore store = new PageStore("t", 2L * PageStore.MAX_DEFERRED);
        for (int i = 0; i < PageStore.MAX_DEFERRED + 1; i++) write(store, i, i);
        assertTrue(store.pin(0, PAGE, m -> {}));
        store.zero(0, (long) PageStore.MAX_DEFERRED * PAGE);
        List<MemorySegment> pieces = new ArrayList<>();
        assertFalse(store.pin(PageStore.MAX_DEFERRED * (long) PAGE, PAGE, pieces::add));
        assertEquals(List.of(), pieces, "nothing handed over");
        store.unpin();
        assertTrue(store.pin(PageStore.MAX_DEFERRED * (long) PAGE, PAGE, pieces::add));
        assertArrayEquals(page(PageStore.MAX_DEFERRED), bytes(pieces));
        store.unpin();
    }

    @Test
    void releaseWhilePinnedGivesTheMemoryBackWithTheLastPin() {
        PageStore store = new PageStore("t", 64);
        write(store, 0, 4);
        List<MemorySegment> pieces = new ArrayList<>();
        assertTrue(store.pin(0, PAGE, pieces::add));
        store.release();
        assertThrows(IllegalStateException.class, () -> store.pin(0, PAGE, m -> {}));
        assertArrayEquals(page(4), bytes(pieces));
        store.unpin();
        assertEquals(0, store.bytesAllocated());
        assertThrows(IllegalStateException.class, () -> bytes(pieces));
    }
}
