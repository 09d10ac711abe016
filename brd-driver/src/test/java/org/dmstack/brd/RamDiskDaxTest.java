package org.dmstack.brd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.dmstack.memory.PagePool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The DAX path of a RAM disk: pages on demand, the same memory as the block path, no flushing. */
class RamDiskDaxTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final PagePool pool = new PagePool();
    private final Brd brd = new Brd(registry, new BrdConfig(1, 1 << 20), pool);
    private final RamDisk ram0 = brd.disk("ram0");
    private final BlockDevice dev = ram0.device();
    private final DaxDevice dax = dev.dax();

    @AfterEach
    void tearDown() {
        brd.destroy();
    }

    @Test
    void directAccessAllocatesOnePageAndTheBlockPathSeesIt() {
        DaxMapping m = dax.directAccess(1000, 8);
        assertEquals(1, m.pages(), "brd gives one page at a time");
        assertEquals(Units.PAGE_SIZE, m.kaddr().byteSize());
        assertEquals(m.kaddr().address() >>> Units.PAGE_SHIFT, m.pfn());
        assertEquals(1, ram0.pagesHeld());
        byte[] data = BrdTest.pattern(Units.PAGE_SIZE, 11);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, m.kaddr(), 0, data.length);
        assertArrayEquals(data, BrdTest.read(dev, 1000L * 8, Units.PAGE_SIZE));
        assertEquals(DaxException.Errno.ERANGE, assertThrows(DaxException.class, () -> dax.directAccess(dax.pages(), 1)).errno());
    }

    @Test
    void fsDaxReadAndWriteAcrossPagesWithoutAnyFlush() {
        assertEquals(false, dax.writeCache());
        long forces = Memory.forces();
        byte[] data = BrdTest.pattern(3 * Units.PAGE_SIZE + 100, 5);
        long pos = 5L * Units.PAGE_SIZE + 3584; // 512 bytes before a page boundary
        assertEquals(data.length, FsDax.write(dax, pos, IovIter.iovec(data)));
        FsDax.fsync(dax, pos, data.length);
        byte[] back = new byte[data.length];
        assertEquals(data.length, FsDax.read(dax, pos, IovIter.iovec(back)));
        assertArrayEquals(data, back);
        byte[] blocks = BrdTest.read(dev, pos >> Units.SECTOR_SHIFT, 16384); // pos is sector aligned
        assertArrayEquals(data, Arrays.copyOf(blocks, data.length), "the block path reads what DAX wrote");
        assertEquals(forces, Memory.forces(), "RAM is never forced");
        // Turning the DAX write cache on (an administrator's choice) still has nothing to flush.
        dev.attributes().write("dax/write_cache", "1");
        FsDax.store(dax, pos, MemorySegment.ofArray(data));
        assertEquals(forces, Memory.forces());
    }

    @Test
    void aRemovedDeviceFailsDaxCalls() {
        brd.close();
        assertEquals(DaxException.Errno.ENXIO, assertThrows(DaxException.class, () -> dax.directAccess(0, 1)).errno());
    }
}
