package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.dmstack.units.Units;
import org.junit.jupiter.api.Test;

class PageStoreTest {
    private static final long CHUNK = (long) PageStore.CHUNK_PAGES * Units.PAGE_SIZE;

    @Test
    void pagesExistOnlyOnceWrittenAndChunksGoBackWhenEmpty() {
        PageStore store = new PageStore("t", 1L << 28); // 1 TiB
        assertNull(store.page(5));
        byte[] zeros = new byte[100];
        byte[] buf = new byte[100];
        store.read(5 * 4096, MemorySegment.ofArray(buf), 0, 100);
        assertArrayEquals(zeros, buf);
        assertEquals(0, store.pages());

        store.write((1L << 40) - 100, MemorySegment.ofArray(new byte[] {1, 2, 3}), 0, 3);
        assertEquals(1, store.pages());
        assertEquals(CHUNK, store.bytesAllocated());
        MemorySegment p = store.pageForWrite(7);
        assertEquals(p.address(), store.page(7).address());
        assertEquals(p.address(), store.chunk(store.slotForWrite(7)).address() + PageStore.offsetInChunk(store.slotForWrite(7)));
        assertEquals(2, store.pages());
        assertEquals(CHUNK, store.bytesAllocated(), "both pages in one chunk");

        p.set(ValueLayout.JAVA_BYTE, 10, (byte) 9);
        assertEquals(List.of(7L, (1L << 28) - 1), store.pageIndexes());
        store.free(7);
        assertEquals((byte) 0, store.pageForWrite(8).get(ValueLayout.JAVA_BYTE, 10), "a reused slot is zero");
        store.zero(0, 1L << 40);
        assertEquals(0, store.pages());
        assertEquals(0, store.bytesAllocated());
    }

    @Test
    void pagesAcrossChunksKeepTheirDataWhenChunksComeAndGo() {
        long n = 3L * PageStore.CHUNK_PAGES;
        PageStore store = new PageStore("t", 4 * n);
        byte[] page = new byte[Units.PAGE_SIZE];
        // Written backwards and spread out: where a page lands in the chunks has nothing to do with its index.
        for (long i = n - 1; i >= 0; i--) {
            Arrays.fill(page, (byte) i);
            page[0] = (byte) (i >> 8);
            store.write(4 * i * Units.PAGE_SIZE, MemorySegment.ofArray(page), 0, page.length);
        }
        assertEquals(3 * CHUNK, store.bytesAllocated());
        // Freeing the pages that filled the first chunk gives it back; new pages take its number again.
        for (long i = n - 1; i >= n - PageStore.CHUNK_PAGES; i--) store.free(4 * i);
        assertEquals(2 * CHUNK, store.bytesAllocated());
        store.write(Units.PAGE_SIZE + 1, MemorySegment.ofArray(new byte[] {7}), 0, 1); // page 1: a new one
        assertEquals(3 * CHUNK, store.bytesAllocated());
        byte[] back = new byte[Units.PAGE_SIZE];
        for (long i = 0; i < n; i++) {
            store.read(4 * i * Units.PAGE_SIZE, MemorySegment.ofArray(back), 0, back.length);
            if (i >= n - PageStore.CHUNK_PAGES) {
                assertArrayEquals(new byte[Units.PAGE_SIZE], back, "freed page " + i);
            } else {
                assertEquals((byte) (i >> 8), back[0], "page " + i);
                assertEquals((byte) i, back[Units.PAGE_SIZE - 1], "page " + i);
            }
        }
        store.read(Units.PAGE_SIZE, MemorySegment.ofArray(back), 0, back.length);
        assertEquals(7, back[1]);
    }

    @Test
    void zeroFreesWholePagesAndZeroesTheEnds() {
        PageStore store = new PageStore("t", 4);
        byte[] ones = new byte[4 * 4096];
        Arrays.fill(ones, (byte) 1);
        store.write(0, MemorySegment.ofArray(ones), 0, ones.length);
        assertEquals(1, store.zero(4000, 4096 + 200), "page 1 is whole, pages 0 and 2 are partial");
        assertEquals(3, store.pages());
        byte[] back = new byte[ones.length];
        store.read(0, MemorySegment.ofArray(back), 0, back.length);
        for (int i = 0; i < back.length; i++) assertEquals(i >= 4000 && i < 8296 ? 0 : 1, back[i], "byte " + i);
    }

    @Test
    void outOfRangeAndReleasedStoresRefuse() {
        PageStore store = new PageStore("t", 2);
        assertThrows(IndexOutOfBoundsException.class, () -> store.pageForWrite(2));
        assertThrows(IndexOutOfBoundsException.class, () -> store.write(8000, MemorySegment.ofArray(new byte[200]), 0, 200));
        store.pageForWrite(1);
        store.release();
        assertThrows(IllegalStateException.class, () -> store.read(0, MemorySegment.ofArray(new byte[1]), 0, 1));
        assertThrows(IllegalStateException.class, () -> store.pageForWrite(0));
    }

    @Test
    void thePoolKeepsStoresByNameAndResizesThem() {
        PagePool pool = new PagePool();
        PageStore a = pool.open("brd/ram0", 10);
        a.pageForWrite(9);
        assertSame(a, pool.open("brd/ram0", 5));
        assertEquals(0, a.pages(), "shrinking frees the pages past the end");
        assertEquals(List.of("brd/ram0"), pool.keys("brd/"));
        assertEquals(true, pool.release("brd/ram0"));
        assertEquals(true, a.isReleased());
        assertEquals(List.of(), pool.keys(""));
    }
}
