package org.dmstack.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dmstack.units.Units;
import org.junit.jupiter.api.Test;

/** {@link PageStore#stage}: a write filled in fresh pages, made the data at once or dropped. */
class PageStoreStageTest {
    private static final int PAGE = Units.PAGE_SIZE;

    private static byte[] page(int value) {
        byte[] b = new byte[PAGE];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static void write(PageStore store, long index, int value) {
        store.write(index * PAGE, MemorySegment.ofArray(page(value)), 0, PAGE);
    }

    private static byte[] read(PageStore store, long index, int pages) {
        byte[] b = new byte[pages * PAGE];
        store.read(index * PAGE, MemorySegment.ofArray(b), 0, b.length);
        return b;
    }

    /** Fills the staged pieces in order with the pages {@code values}, as a socket read would. */
    private static void fill(List<MemorySegment> pieces, int... values) {
        int page = 0;
        for (MemorySegment m : pieces) {
            for (long at = 0; at < m.byteSize(); at += PAGE) m.asSlice(at, PAGE).fill((byte) values[page++]);
        }
        assertEquals(values.length, page);
    }

    private static byte[] pages(int... values) {
        byte[] b = new byte[values.length * PAGE];
        for (int i = 0; i < values.length; i++) Arrays.fill(b, i * PAGE, (i + 1) * PAGE, (byte) values[i]);
        return b;
    }

    @Test
    void theOldDataStaysUntilTheCommitMakesTheNewDataTheirsAllAtOnce() {
        PageStore store = new PageStore("t", 64);
        write(store, 4, 1);
        write(store, 6, 3);
        List<MemorySegment> pieces = new ArrayList<>();
        PageStore.Staged staged = store.stage(4 * PAGE, 3L * PAGE, pieces::add);
        assertNotNull(staged);
        assertEquals(List.of(3L * PAGE), pieces.stream().map(MemorySegment::byteSize).toList(), "fresh slots that lie together: one piece");
        fill(pieces, 7, 8, 9);
        assertArrayEquals(pages(1, 0, 3), read(store, 4, 3), "staged, not yet the data");
        assertEquals(2, store.pages());
        assertTrue(staged.commit());
        assertArrayEquals(pages(7, 8, 9), read(store, 4, 3));
        assertEquals(3, store.pages());
        assertThrows(IllegalStateException.class, staged::commit, "once");
        staged.abort(); // after a commit: nothing
        assertArrayEquals(pages(7, 8, 9), read(store, 4, 3));
    }

    @Test
    void anAbortLeavesThePagesAsTheyWereAndGivesTheMemoryBack() {
        PageStore store = new PageStore("t", 1024);
        write(store, 0, 1);
        long allocated = store.bytesAllocated();
        List<MemorySegment> pieces = new ArrayList<>();
        PageStore.Staged staged = store.stage(0, 600L * PAGE, pieces::add); // more than the first chunk has free
        assertTrue(store.bytesAllocated() > allocated);
        fill(pieces, new int[600]);
        staged.abort();
        assertArrayEquals(page(1), read(store, 0, 1), "a writer gone half-way changed nothing");
        assertEquals(1, store.pages());
        assertEquals(allocated, store.bytesAllocated(), "the chunk taken for the staging went back");
        assertEquals(List.of(0L), store.pageIndexes());
    }

    @Test
    void onlyWholePages() {
        PageStore store = new PageStore("t", 64);
        assertNull(store.stage(512, PAGE, m -> {}));
        assertNull(store.stage(0, PAGE + 512, m -> {}));
        assertNull(store.stage(0, 0, m -> {}));
        assertThrows(IndexOutOfBoundsException.class, () -> store.stage(60L * PAGE, 5L * PAGE, m -> {}));
    }

    @Test
    void aPageReplacedByACommitIsZeroedBeforeItIsPublishedAgainForAWriteOfPartOfIt() {
        PageStore store = new PageStore("t", 64);
        write(store, 0, 5);
        List<MemorySegment> pieces = new ArrayList<>();
        PageStore.Staged staged = store.stage(0, PAGE, pieces::add);
        fill(pieces, 6);
        assertTrue(staged.commit());
        // The old slot of page 0 is free again, still holding 5s: a one-byte write to a new page takes it.
        store.write(PAGE, MemorySegment.ofArray(new byte[] {9}), 0, 1);
        byte[] expected = new byte[PAGE];
        expected[0] = 9;
        assertArrayEquals(expected, read(store, 1, 1));
        assertArrayEquals(page(6), read(store, 0, 1));
    }

    @Test
    void aReaderHoldingTheOldMemoryKeepsItUntilItsPinGoes() {
        PageStore store = new PageStore("t", 64);
        write(store, 2, 4);
        List<MemorySegment> pinned = new ArrayList<>();
        assertTrue(store.pin(2 * PAGE, PAGE, pinned::add));
        List<MemorySegment> pieces = new ArrayList<>();
        PageStore.Staged staged = store.stage(2 * PAGE, PAGE, pieces::add);
        fill(pieces, 5);
        assertTrue(staged.commit());
        write(store, 3, 6); // must not take the old page while it is pinned
        assertArrayEquals(page(4), pinned.getFirst().toArray(ValueLayout.JAVA_BYTE), "the reader sends what it pinned");
        store.unpin();
        assertArrayEquals(page(5), read(store, 2, 1));
        assertArrayEquals(page(6), read(store, 3, 1));
    }

    @Test
    void aStoreReleasedUnderTheStagingRefusesTheCommitAndKeepsTheMemoryForTheWriterUntilTheAbort() {
        PageStore store = new PageStore("t", 64);
        List<MemorySegment> pieces = new ArrayList<>();
        PageStore.Staged staged = store.stage(0, 2L * PAGE, pieces::add);
        fill(pieces, 3, 4);
        store.release();
        assertFalse(staged.commit());
        assertArrayEquals(pages(3, 4), pieces.getFirst().toArray(ValueLayout.JAVA_BYTE), "still readable: the writer copies it out");
        staged.abort();
        assertThrows(IllegalStateException.class, () -> pieces.getFirst().get(ValueLayout.JAVA_BYTE, 0), "then it goes back with the store");
        assertThrows(IllegalStateException.class, () -> store.stage(0, PAGE, m -> {}));
    }

    @Test
    void aStoreShrunkBelowTheStagedPagesRefusesTheCommit() {
        PageStore store = new PageStore("t", 64);
        PageStore.Staged staged = store.stage(40L * PAGE, 2L * PAGE, m -> {});
        store.resize(41);
        assertFalse(staged.commit());
        staged.abort();
        assertEquals(0, store.pages());
    }
}
