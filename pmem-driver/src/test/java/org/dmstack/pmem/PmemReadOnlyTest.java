package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read-only region (an unarmed NVDIMM, or read_only written): the pmem disk is marked read-only
 * when it is made and whenever the region changes (nvdimm_check_and_set_ro); it refuses writes and
 * fs-dax writes, changes nothing in the file, and reads go on.
 */
class PmemReadOnlyTest {
    @TempDir
    Path dir;

    @Test
    void theDiskOfAReadOnlyRegionRefusesWritesAndKeepsItsData() throws Exception {
        Path file = dir.resolve("pmem0.img");
        byte[] data = Io.pattern(1 << 20, 5);
        Files.write(file, data);
        Region region = Io.persistent(0, file, 1 << 20).withReadOnly(true);
        try (Pmem pmem = new Pmem(new BlockDeviceRegistry())) {
            PmemDevice pmem0 = pmem.addRegion(region);
            BlockDevice dev = pmem0.device();
            assertTrue(pmem0.readOnly());
            assertEquals("1", dev.attributes().read("ro"));
            assertArrayEquals(Arrays.copyOf(data, 4096), Io.read(dev, 0, 4096));

            assertEquals("IOERR: Trying to write to read-only block-device pmem0",
                    Io.submit(dev, Bio.write(0, MemorySegment.ofArray(new byte[4096]))).toString());
            // pmem has no write-zeroes limit: submit_bio_noacct's EOPNOTSUPP comes first (bio_check_ro only warns in 6.1).
            assertEquals("NOTSUPP: pmem0: WRITE_ZEROES is not supported (write_zeroes_max_bytes is 0)",
                    Io.submit(dev, Bio.writeZeroes(8, 4096)).toString());
            DaxException e = assertThrows(DaxException.class, () -> FsDax.write(dev.dax(), 0, IovIter.iovec(new byte[512])));
            assertEquals("EROFS: pmem0: Read-only file system", e.toString());
            byte[] back = new byte[4096];
            assertEquals(4096, FsDax.read(dev.dax(), 4096, IovIter.iovec(back)));
            assertArrayEquals(Arrays.copyOfRange(data, 4096, 8192), back);
            assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()), "an empty flush passes");

            pmem.regionRevalidated(region.withReadOnly(false));
            assertFalse(pmem0.readOnly());
            assertEquals("0", dev.attributes().read("ro"));
            byte[] next = Io.pattern(4096, 77);
            Io.write(dev, 0, next);
            assertEquals(4096, FsDax.write(dev.dax(), 8192, IovIter.iovec(next)));

            pmem.regionRevalidated(region.withReadOnly(true));
            assertEquals("1", dev.attributes().read("ro"));
            assertEquals("IOERR: Trying to write to read-only block-device pmem0",
                    Io.submit(dev, Bio.write(0, MemorySegment.ofArray(new byte[4096]))).toString());
            assertArrayEquals(next, Io.read(dev, 0, 4096));
        }
        byte[] onDisk = Files.readAllBytes(file);
        assertArrayEquals(Io.pattern(4096, 77), Arrays.copyOf(onDisk, 4096));
        assertArrayEquals(Arrays.copyOfRange(data, 4096, 8192), Arrays.copyOfRange(onDisk, 4096, 8192));
        assertArrayEquals(Io.pattern(4096, 77), Arrays.copyOfRange(onDisk, 8192, 12288));
        assertArrayEquals(Arrays.copyOfRange(data, 12288, data.length), Arrays.copyOfRange(onDisk, 12288, data.length));
    }

    @Test
    void aRegionThatIsNotReadOnlyGivesAWritableDiskAndOthersAreLeftAlone() throws Exception {
        try (Pmem pmem = new Pmem(new BlockDeviceRegistry())) {
            PmemDevice pmem0 = pmem.addRegion(Io.persistent(0, dir.resolve("a.img"), 1 << 20));
            PmemDevice pmem1 = pmem.addRegion(Io.persistent(1, dir.resolve("b.img"), 1 << 20));
            assertEquals("0", pmem0.device().attributes().read("ro"));
            pmem.regionRevalidated(pmem1.region().withReadOnly(true));
            assertEquals("0", pmem0.device().attributes().read("ro"));
            assertEquals("1", pmem1.device().attributes().read("ro"));
            pmem.regionRevalidated(Io.persistent(7, dir.resolve("c.img"), 1 << 20).withReadOnly(true)); // no device: nothing
            Io.write(pmem0.device(), 0, Io.pattern(512, 1));
        }
    }
}
