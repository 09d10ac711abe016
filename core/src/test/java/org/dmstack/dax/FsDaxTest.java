package org.dmstack.dax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Poison;
import org.junit.jupiter.api.Test;

/** fs-dax helpers: data goes where it should, and flush is called only with the DAX write cache on. */
class FsDaxTest {
    @Test
    void flushOnlyWhenTheWriteCacheIsOn() {
        MemDisk disk = new MemDisk("pmem0", new DevT(259, 0), 64, true, true);
        DaxDevice dax = disk.disk.dax();
        MemorySegment src = Arena.ofAuto().allocate(3 * 4096).fill((byte) 9);
        FsDax.store(dax, 100, src);
        assertEquals(1, disk.daxFlushes.get(), "one flush for the one mapped range");
        FsDax.fsync(dax, 0, 8 * 4096);
        assertEquals(2, disk.daxFlushes.get());
        dax.flush(dax.directAccess(0, 1), 0, 4096);
        assertEquals(3, disk.daxFlushes.get());

        disk.disk.attributes().write("dax/write_cache", "0");
        FsDax.store(dax, 100, src);
        FsDax.fsync(dax, 0, 8 * 4096);
        dax.flush(dax.directAccess(0, 1), 0, 4096);
        assertEquals(3, disk.daxFlushes.get(), "no flush at all with the DAX write cache off");
        assertEquals(9, disk.read(100 + 3 * 4096 - 1, 1)[0]);
    }

    @Test
    void readStopsShortAtPoisonAndFailsWhenNothingCouldBeRead() {
        MemDisk disk = new MemDisk("pmem0", new DevT(259, 0), 64, true, true);
        DaxDevice dax = disk.disk.dax();
        byte[] data = new byte[4 * 4096];
        for (int i = 0; i < data.length; i++) data[i] = (byte) i;
        assertEquals(data.length, FsDax.write(dax, 0, IovIter.iovec(data)));
        Poison.inject(disk.memory, 2 * 4096 + 130, 8);
        try {
            byte[] back = new byte[data.length];
            assertEquals(2 * 4096 + 128, FsDax.read(dax, 0, IovIter.iovec(back)));
            assertArrayEquals(Arrays.copyOf(data, 2 * 4096 + 128), Arrays.copyOf(back, 2 * 4096 + 128));
            // dax_iomap_iter (6.1): a copy that moved nothing is -EFAULT.
            DaxException e = assertThrows(DaxException.class, () -> FsDax.read(dax, 2 * 4096 + 128, IovIter.iovec(new byte[10])));
            assertEquals(DaxException.Errno.EFAULT, e.errno());
        } finally {
            Poison.clearAll(disk.memory);
        }
    }

    @Test
    void readsAndWritesStopAtTheEndOfTheDevice() {
        MemDisk disk = new MemDisk("pmem0", new DevT(259, 0), 16, false, true);
        DaxDevice dax = disk.disk.dax();
        assertEquals(100, FsDax.write(dax, 2 * 4096 - 100, IovIter.iovec(new byte[500])));
        assertEquals(0, FsDax.read(dax, 2 * 4096, IovIter.iovec(new byte[5])));
        assertEquals(disk.memory.get(ValueLayout.JAVA_BYTE, 0), (byte) 0);
    }

    @Test
    void badArgumentsAreRefused() {
        DaxDevice dax = new MemDisk("pmem0", new DevT(259, 0), 16, false, true).disk.dax();
        assertEquals("pmem0: page offset 2 outside the device (2 pages)", assertThrows(DaxException.class, () -> dax.directAccess(2, 1)).getMessage());
        assertEquals("pmem0: direct_access of a negative page count -1", assertThrows(DaxException.class, () -> dax.directAccess(0, -1)).getMessage());
        assertEquals(DaxException.Errno.ERANGE, assertThrows(DaxException.class, () -> dax.directAccess(-1, 1)).errno());
        DaxMapping map = dax.directAccess(0, 1);
        assertEquals("pmem0: negative byte count -5", assertThrows(DaxException.class, () -> dax.copyToIter(map, 0, -5, IovIter.iovec(new byte[1]))).getMessage());
        assertEquals("pmem0: 4097 bytes at 0 do not fit the 4096 mapped at page 0",
                assertThrows(DaxException.class, () -> dax.copyToIter(map, 0, 4097, IovIter.iovec(new byte[4097]))).getMessage());
        assertEquals("pmem0: the mapping was not filled by direct_access",
                assertThrows(DaxException.class, () -> dax.copyToIter(new DaxMapping(), 0, 1, IovIter.iovec(new byte[1]))).getMessage());
    }

    /** A DAX file system on a read-only disk is mounted read-only: write(2) and stores fail with EROFS; reads and fsync go on. */
    @Test
    void aReadOnlyDiskRefusesDaxWritesAndStores() {
        MemDisk disk = new MemDisk("pmem0", new DevT(259, 0), 64, true, true);
        DaxDevice dax = disk.disk.dax();
        FsDax.write(dax, 0, IovIter.iovec(new byte[] {5, 6, 7}));
        disk.disk.setReadOnly(true);
        assertEquals(true, dax.readOnly());
        DaxException write = assertThrows(DaxException.class, () -> FsDax.write(dax, 0, IovIter.iovec(new byte[] {1})));
        assertEquals("EROFS: pmem0: Read-only file system", write.toString());
        DaxException store = assertThrows(DaxException.class, () -> FsDax.store(dax, 0, Arena.ofAuto().allocate(8)));
        assertEquals(DaxException.Errno.EROFS, store.errno());
        byte[] back = new byte[3];
        assertEquals(3, FsDax.read(dax, 0, IovIter.iovec(back)));
        assertArrayEquals(new byte[] {5, 6, 7}, back);
        FsDax.fsync(dax, 0, 4096);
        disk.disk.setReadOnly(false);
        assertEquals(1, FsDax.write(dax, 0, IovIter.iovec(new byte[] {1})));
    }
}
