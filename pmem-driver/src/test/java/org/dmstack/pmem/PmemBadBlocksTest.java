package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.BadBlocks;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.iov.Pipe;
import org.dmstack.memory.Poison;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Media errors: injected poison, the badblocks list, and what each path does with them. */
class PmemBadBlocksTest {
    @TempDir
    Path dir;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final Pmem pmem = new Pmem(registry);
    private PmemDevice pmem0;
    private BlockDevice dev;
    private DaxDevice dax;
    private byte[] data;

    @BeforeEach
    void setUp() {
        pmem0 = pmem.create(PmemConfig.file(dir.resolve("bb.img"), 1 << 20, true));
        dev = pmem0.device();
        dax = dev.dax();
        data = Io.pattern(8 * Units.PAGE_SIZE, 21);
        Io.write(dev, 0, data);
    }

    @AfterEach
    void tearDown() {
        pmem.close();
        assertTrue(!Poison.any(), "closing a device forgets the poison of its memory");
    }

    @Test
    void injectedErrorsAreListedLikeLinux() {
        pmem0.injectError(17, 3);
        pmem0.injectError(100, 1);
        pmem0.injectError(20, 2); // merges with 17+3
        assertEquals("17 5\n100 1", dev.attributes().read("badblocks"));
        assertEquals(List.of(new BadBlocks.Range(17, 5), new BadBlocks.Range(100, 1)), pmem0.badBlocks());
        pmem0.clearError(18, 1);
        assertEquals("17 1\n19 3\n100 1", dev.attributes().read("badblocks"));
        assertThrows(IllegalArgumentException.class, () -> pmem0.injectError(dev.capacity(), 1));
        assertThrows(IllegalArgumentException.class, () -> pmem0.injectError(0, 0));
        // disk_badblocks_store: a sector marked bad through sysfs fails reads as pmem_do_read's is_bad_pmem says.
        dev.attributes().write("badblocks", "24 1");
        assertEquals("17 1\n19 3\n24 1\n100 1", dev.attributes().read("badblocks"));
        assertEquals(BlkStatus.Code.IOERR, Io.tryRead(dev, 24, 512).code());
    }

    @Test
    void aBlockReadOfABadSectorFails() {
        pmem0.injectError(17, 1);
        BlkStatus s = Io.tryRead(dev, 16, 4096);
        assertEquals(BlkStatus.Code.IOERR, s.code());
        assertEquals("pmem0: I/O error reading sector 16: bad block at sector 17", s.message());
        assertEquals(BlkStatus.Code.IOERR, Io.tryRead(dev, 17, 512).code());
        assertArrayEquals(Arrays.copyOf(data, 8192), Io.read(dev, 0, 8192), "sectors before it read fine");
        assertArrayEquals(Arrays.copyOfRange(data, 18 * 512, 24 * 512), Io.read(dev, 18, 6 * 512));
    }

    /**
     * __pmem_direct_access (6.1): a bad block anywhere in [pgoff, pgoff + nr_pages) is -EIO, not a
     * shorter mapping; ranges that miss it map as asked. So an fs-dax read whose first extent holds
     * a bad page fails with nothing read (dax_iomap_iter returns the error when done is 0).
     */
    @Test
    void directAccessFailsOverABadPageAnywhereInTheRange() {
        pmem0.injectError(17, 1); // page 2
        DaxException e = assertThrows(DaxException.class, () -> dax.directAccess(0, 8));
        assertEquals("EIO: pmem0: pages 0+8 hold a media error (bad sector 17)", e.toString());
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> dax.directAccess(2, 1)).errno());
        assertEquals(2, dax.directAccess(0, 2).pages(), "the pages before it, asked alone, are fine");
        long after = (dev.sizeBytes() >> Units.PAGE_SHIFT) - 3;
        assertEquals(after, dax.directAccess(3, after + 100).pages(), "pages after it are fine (never more than asked for)");
        byte[] buf = new byte[4 * Units.PAGE_SIZE];
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> FsDax.read(dax, 0, IovIter.iovec(buf))).errno());
        assertEquals(2 * Units.PAGE_SIZE, FsDax.read(dax, 0, IovIter.iovec(new byte[2 * Units.PAGE_SIZE])));
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> FsDax.read(dax, 2 * 4096, IovIter.iovec(new byte[10]))).errno());
    }

    /**
     * dax_iomap_iter's recovery write (6.1): a write(2) over a bad page maps again with
     * DAX_RECOVERY_WRITE (the pages before the first bad one, rounded up to pages, or the bad page
     * alone) and pmem_recovery_write clears whole pages of poison and bad blocks, then writes. A
     * write that covers a bad page only in part writes nothing there.
     */
    @Test
    void aDaxWriteOfWholeBadPagesRepairsThemAndAPartialOneStops() {
        pmem0.injectError(17, 1);   // page 2
        pmem0.injectError(40, 2);   // page 5
        byte[] fresh = Io.pattern(4 * Units.PAGE_SIZE, 90);
        assertEquals(fresh.length, FsDax.write(dax, 0, IovIter.iovec(fresh)));
        assertEquals("40 2", dev.attributes().read("badblocks"), "page 2 is repaired; page 5 was not written");
        byte[] back = new byte[fresh.length];
        assertEquals(fresh.length, FsDax.read(dax, 0, IovIter.iovec(back)));
        assertArrayEquals(fresh, back);

        // 100 bytes into page 5: pmem_recovery_write refuses what is not whole pages, and nothing was done before.
        DaxException e = assertThrows(DaxException.class, () -> FsDax.write(dax, 5 * 4096 + 100, IovIter.iovec(new byte[100])));
        assertEquals(DaxException.Errno.EFAULT, e.errno());
        // From page 4: page 4 is written, the write stops at page 5.
        assertEquals(4096, FsDax.write(dax, 4 * 4096, IovIter.iovec(new byte[4096 + 512])));
        assertEquals("40 2", dev.attributes().read("badblocks"));
        // Stores through a mapping never recover (the fault path has no recovery mode).
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> FsDax.store(dax, 5 * 4096, java.lang.foreign.MemorySegment.ofArray(new byte[4096]))).errno());
        // The whole page: repaired and written.
        byte[] page = Io.pattern(4096, 91);
        assertEquals(4096, FsDax.write(dax, 5 * 4096, IovIter.iovec(page)));
        assertEquals("", dev.attributes().read("badblocks"));
        assertArrayEquals(page, Io.read(dev, 40, 4096));
    }

    @Test
    void machineCheckSafeDaxReadsReturnShortCounts() {
        DaxMapping m = dax.directAccess(0, 4); // mapped before the error appears
        pmem0.injectError(17, 1);
        byte[] buf = new byte[4 * Units.PAGE_SIZE];
        assertEquals(17 * 512, dax.copyToIter(m, 0, buf.length, IovIter.iovec(buf)));
        assertArrayEquals(Arrays.copyOf(data, 17 * 512), Arrays.copyOf(buf, 17 * 512));
        Pipe pipe = new Pipe();
        assertEquals(17 * 512, dax.copyToIter(m, 0, buf.length, IovIter.pipe(pipe, buf.length)), "pipes too");
        assertEquals(17 * 512, pipe.available());
    }

    @Test
    void aBlockWriteOfWholeBadSectorsClearsThem() {
        pmem0.injectError(16, 8); // all of page 2
        pmem0.injectError(40, 2);
        byte[] fresh = Io.pattern(512, 77);
        Io.write(dev, 18, fresh);
        assertEquals("16 2\n19 5\n40 2", dev.attributes().read("badblocks"), "only the written sector is repaired");
        assertArrayEquals(fresh, Io.read(dev, 18, 512));
        assertEquals(BlkStatus.Code.IOERR, Io.tryRead(dev, 16, 1024).code());

        byte[] page = Io.pattern(4096, 78);
        Io.write(dev, 16, page);
        assertEquals("40 2", dev.attributes().read("badblocks"));
        assertArrayEquals(page, Io.read(dev, 16, 4096));
        assertTrue(dax.directAccess(2, 1).pages() >= 1, "DAX works on the repaired page again");
        byte[] buf = new byte[4096];
        assertEquals(4096, FsDax.read(dax, 2 * 4096, IovIter.iovec(buf)));
        assertArrayEquals(page, buf);

        pmem0.clearError(40, 2);
        assertEquals("", dev.attributes().read("badblocks"));
    }

    @Test
    void regionPoisonBecomesBadBlocksAtCreation() {
        Region region = Io.region(3, Region.Type.PERSISTENT, 1 << 20, Region.Backing.file(dir.resolve("r.img"), true),
                Region.PersistenceDomain.MEMORY_CONTROLLER, List.of(new Region.PoisonRange(8192 + 100, 1000), new Region.PoisonRange(65536, 512)));
        PmemDevice pmem3 = pmem.addRegion(region);
        assertEquals("pmem3", pmem3.name());
        assertEquals("16 3\n128 1", pmem3.device().attributes().read("badblocks"));
        assertEquals(BlkStatus.Code.IOERR, Io.tryRead(pmem3.device(), 128, 512).code());
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> pmem3.device().dax().directAccess(2, 1)).errno());
        Io.write(pmem3.device(), 16, new byte[3 * 512]);
        assertEquals("128 1", pmem3.device().attributes().read("badblocks"));
    }
}
