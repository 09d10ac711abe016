package org.dmstack.dax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/**
 * direct_access through layers that map onto a device below (as dm does): the walk goes down one
 * level at a time, each level checked and counted, the answer clamped to what every level asked.
 */
class LayeredDirectAccessTest {
    /** A layer that maps its page p to page p + shift below, and asks the device below for {@code extra} more pages than it was asked. */
    private static DaxOperations layer(DaxDevice below, long shift, long extra, AtomicBoolean fail) {
        return (pgoff, nrPages, map) -> {
            if (fail.get()) throw new DaxException(DaxException.Errno.EIO, "layer failed");
            below.directAccess(pgoff + shift, nrPages + extra, map);
        };
    }

    private final MemDisk pmem = new MemDisk("pmem0", new DevT(259, 0), 64 * 8, false, true);
    private final DaxDevice bottom = pmem.disk.dax();
    private final AtomicBoolean fail = new AtomicBoolean();
    private final DaxDevice middle = new DaxDevice("dm-1", layer(bottom, 2, 5, new AtomicBoolean()), () -> 60, false);
    private final DaxDevice top = new DaxDevice("dm-0", layer(middle, 1, 0, fail), () -> 50, false);

    @Test
    void aReadThroughTwoLayersReadsTheBottomsPagesAndEachLevelCountsOneCall() {
        byte[] data = new byte[2 * 4096];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, pmem.memory, 13 * 4096 + 100, data.length);

        byte[] back = new byte[data.length];
        // top page 10 is middle page 11 is pmem page 13; one extent, as the bottom maps it all
        assertEquals(data.length, FsDax.read(top, 10 * 4096 + 100, IovIter.iovec(back)));
        assertArrayEquals(data, back);
        assertEquals(1, top.directAccessCount());
        assertEquals(1, middle.directAccessCount());
        assertEquals(1, bottom.directAccessCount());
        assertEquals(1, bottom.copyCount());
        assertEquals(0, top.copyCount(), "copies go to the device that owns the memory");
    }

    @Test
    void theAnswerIsClampedToWhatTheTopAskedThoughALayerAskedForMore() {
        DaxMapping map = top.directAccess(10, 2);
        assertEquals(2, map.pages(), "the middle layer asked pmem for 7 pages");
        assertEquals(13 * 4096, map.offset());
        assertSame(pmem.memory, map.memory());
        assertEquals(1, top.directAccess(10, 0).pages(), "zero pages asked is one page");
    }

    @Test
    void aLayerCalledOutsideAWalkFillsTheMappingItself() {
        DaxMapping map = new DaxMapping();
        layer(middle, 1, 0, new AtomicBoolean()).directAccess(4, 1, map);
        assertEquals(7 * 4096, map.offset());
        assertEquals(1, map.pages());
    }

    @Test
    void aDeadDeviceBelowFailsTheWalkWithItsOwnErrorAndALayersErrorLeavesTheMappingUsable() {
        DaxMapping map = new DaxMapping();
        fail.set(true);
        assertEquals("layer failed", assertThrows(DaxException.class, () -> top.directAccess(0, 1, map)).getMessage());
        fail.set(false);
        top.directAccess(0, 1, map);
        assertEquals(3 * 4096, map.offset());

        bottom.kill();
        DaxException dead = assertThrows(DaxException.class, () -> FsDax.read(top, 0, IovIter.iovec(new byte[10])));
        assertEquals("pmem0: DAX device is dead", dead.getMessage());
        assertEquals(DaxException.Errno.ENXIO, dead.errno());
        assertEquals(0, bottom.copyCount());
    }
}
