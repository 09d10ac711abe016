package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A 5 GiB region over a sparse file: one 64-bit mapping, block and DAX I/O above 4 GiB. */
class PmemLargeFileTest {
    @TempDir
    Path dir;

    @Test
    void writesAboveFourGigabytesReadBackThroughBlockAndDax() throws IOException {
        Path file = dir.resolve("pmem5g.img");
        long size = 5L << 30;
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        try (Pmem pmem = new Pmem(registry)) {
            PmemDevice pmem0 = pmem.create(PmemConfig.file(file, size, true));
            assertEquals("pmem0", pmem0.name());
            assertEquals("259:0", pmem0.devt().toString());
            assertEquals(size, Files.size(file));
            BlockDevice dev = pmem0.device();
            assertEquals(size >> Units.SECTOR_SHIFT, dev.capacity());

            // Block write at 4.5 GiB, read back through both paths.
            long at = (9L << 29) >> Units.SECTOR_SHIFT;
            byte[] data = Io.pattern(3 * Units.PAGE_SIZE, 13);
            Io.write(dev, at, data);
            assertArrayEquals(data, Io.read(dev, at, data.length));
            DaxDevice dax = dev.dax();
            byte[] viaDax = new byte[data.length];
            assertEquals(data.length, FsDax.read(dax, at << Units.SECTOR_SHIFT, IovIter.iovec(viaDax)));
            assertArrayEquals(data, viaDax);

            // DAX write at the last pages, read back through the block path.
            long pos = size - 2 * Units.PAGE_SIZE;
            byte[] more = Io.pattern(2 * Units.PAGE_SIZE, 99);
            assertEquals(more.length, FsDax.write(dax, pos, IovIter.iovec(more)));
            assertArrayEquals(more, Io.read(dev, pos >> Units.SECTOR_SHIFT, more.length));

            // direct_access above 4 GiB gives every page to the end of the device (when asked for that many).
            long pgoff = (4L << 30) >> Units.PAGE_SHIFT;
            DaxMapping m = dax.directAccess(pgoff, Long.MAX_VALUE);
            assertEquals((size >> Units.PAGE_SHIFT) - pgoff, m.pages());
            assertEquals(pmem0.pfn() + pgoff, m.pfn());
        }
        assertTrue(Files.deleteIfExists(file));
    }
}
