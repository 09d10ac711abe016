package org.dmstack.brd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.Holes;
import org.dmstack.units.Units;
import org.dmstack.memory.PagePool;
import org.dmstack.memory.PageStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The brd driver in plain Java: devices, sparse memory, reconfiguration and bad input. */
class BrdTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final PagePool pool = new PagePool();
    private Brd brd;

    @AfterEach
    void tearDown() {
        if (brd != null) brd.destroy();
        assertEquals(List.of(), pool.keys(""), "destroy frees every store");
    }

    static BlkStatus submit(BlockDevice dev, Bio bio) {
        dev.submit(bio);
        return bio.await();
    }

    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (seed + i * 31);
        return b;
    }

    static byte[] read(BlockDevice dev, long sector, int bytes) {
        MemorySegment buf = MemorySegment.ofArray(new byte[bytes]);
        assertEquals(BlkStatus.OK, submit(dev, Bio.read(sector, buf)));
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    static void write(BlockDevice dev, long sector, byte[] data) {
        assertEquals(BlkStatus.OK, submit(dev, Bio.write(sector, MemorySegment.ofArray(data))));
    }

    @Test
    void devicesAreRamNWithNumbersOneN() {
        brd = new Brd(registry, new BrdConfig(3, 4096), pool);
        assertEquals(List.of("ram0", "ram1", "ram2"), brd.disks().stream().map(RamDisk::name).toList());
        for (int i = 0; i < 3; i++) {
            BlockDevice dev = registry.lookup("ram" + i);
            assertNotNull(dev);
            assertEquals(new DevT(1, i), dev.devt());
            assertEquals(4096L * 2, dev.capacity(), "rd_size KiB = 2 sectors each");
            assertSame(dev, registry.lookup("1:" + i));
        }
        BlockDevice ram0 = registry.lookup("ram0");
        assertEquals("write through", ram0.attributes().read("queue/write_cache"));
        assertEquals("0", ram0.attributes().read("dax/write_cache"));
        assertEquals("1", ram0.attributes().read("queue/dax"));
        assertEquals("4096", ram0.attributes().read("queue/physical_block_size"));
        assertEquals("512", ram0.attributes().read("queue/logical_block_size"));
    }

    /** Pages never written, and pages freed, are holes; a page any byte of which was written is data. */
    @Test
    void holesAreThePagesTheDiskDoesNotHold() {
        brd = new Brd(registry, new BrdConfig(1, 64), pool); // 64 KiB: 16 pages
        RamDisk ram0 = brd.disk("ram0");
        GenDisk disk = (GenDisk) ram0.device();
        Holes holes = disk.holes();
        long size = ram0.sizeBytes();
        assertEquals(size, holes.seekData(0, size), "never written: no data");
        assertEquals(0, holes.seekHole(0, size));
        write(disk, 8, pattern(8192, 1)); // pages 1 and 2
        write(disk, 5 * 8 + 3, pattern(512, 2)); // one sector of page 5
        write(disk, 15 * 8, pattern(4096, 3)); // the last page
        assertEquals(4096, holes.seekData(0, size));
        assertEquals(3 * 4096, holes.seekHole(4096, size));
        assertEquals(4096 + 100, holes.seekData(4096 + 100, size), "inside data: the offset itself");
        assertEquals(5 * 4096, holes.seekData(3 * 4096, size), "the whole page of a written sector");
        assertEquals(6 * 4096, holes.seekHole(5 * 4096, size));
        assertEquals(15 * 4096, holes.seekData(6 * 4096, size));
        assertEquals(size, holes.seekHole(15 * 4096, size), "data up to the end");
        assertEquals(4 * 4096, holes.seekData(3 * 4096, 4 * 4096), "nothing before the end asked for");
        assertEquals(2 * 4096 + 512, holes.seekHole(4096, 2 * 4096 + 512), "bounded by end, not rounded to a page");
        ram0.store().free(1);
        assertEquals(4096, holes.seekHole(4096, size), "a freed page is a hole again");
        assertEquals(2 * 4096, holes.seekData(0, size));
    }

    /**
     * The queue attributes Linux 6.1 shows for brd: brd_alloc keeps blk_set_default_limits
     * (BLK_SAFE_MAX_SECTORS for max_sectors and max_hw_sectors, no discard, no write-zeroes; brd
     * gained discard only later) and sets the physical block size to a page and QUEUE_FLAG_NONROT.
     */
    @Test
    void queueAttributesAreLinuxs() {
        brd = new Brd(registry, new BrdConfig(1, 4096), pool);
        BlockDevice ram0 = registry.lookup("ram0");
        String[][] expected = {
            {"alignment_offset", "0"},
            {"discard_alignment", "0"},
            {"queue/minimum_io_size", "4096"},
            {"queue/optimal_io_size", "0"},
            {"queue/rotational", "0"},
            {"queue/chunk_sectors", "0"},
            {"queue/discard_granularity", "0"},
            {"queue/discard_max_bytes", "0"},
            {"queue/discard_max_hw_bytes", "0"},
            {"queue/write_zeroes_max_bytes", "0"},
            {"queue/max_sectors_kb", "127"},
            {"queue/max_hw_sectors_kb", "127"},
            {"queue/fua", "0"},
            // brd_alloc: disk->minors = max_part (1), partitions allowed.
            {"range", "1"},
            {"ext_range", "256"},
            {"capability", "0"},
            {"queue/max_segments", "128"},
            {"queue/max_segment_size", "65536"},
            {"queue/nr_requests", "128"},
            {"queue/read_ahead_kb", "128"},
            {"queue/scheduler", "none"},
            {"queue/add_random", "0"},
            {"queue/write_cache", "write through"},
        };
        for (String[] e : expected) assertEquals(e[1], ram0.attributes().read(e[0]), e[0]);
    }

    @Test
    void pagesAreAllocatedOnFirstWriteAndKeptAsWritten() {
        brd = new Brd(registry, new BrdConfig(1, 1 << 20), pool); // 1 GiB
        RamDisk ram0 = brd.disk("ram0");
        BlockDevice dev = ram0.device();
        assertEquals(0, ram0.bytesHeld());
        assertEquals("0", dev.attributes().read("brd/mem_used"));

        // Reads of pages never written are zeros and allocate nothing.
        assertArrayEquals(new byte[8192], read(dev, 1000, 8192));
        assertEquals(0, ram0.pagesHeld());

        // One sector allocates one page.
        byte[] sector = pattern(512, 7);
        write(dev, 9, sector); // page 1
        assertEquals(1, ram0.pagesHeld());
        assertEquals("4096", dev.attributes().read("brd/mem_used"));
        assertEquals("1", dev.attributes().read("brd/pages"));
        assertArrayEquals(sector, read(dev, 9, 512));
        assertArrayEquals(new byte[512], read(dev, 8, 512), "the rest of the page is zero");

        // 1 MiB at 64 MiB: 256 more pages.
        byte[] big = pattern(1 << 20, 3);
        long at = (64L << 20) >> Units.SECTOR_SHIFT;
        write(dev, at, big);
        assertEquals(257, ram0.pagesHeld());
        assertArrayEquals(big, read(dev, at, big.length));

        // 6.1's brd sets no discard or write-zeroes limit, so submit_bio_noacct refuses both
        // (EOPNOTSUPP) and the pages and their data stay.
        assertEquals("NOTSUPP: ram0: DISCARD is not supported (discard_max_bytes is 0)",
                submit(dev, Bio.discard(at + 1, (1 << 20) - 1024)).toString());
        assertEquals("NOTSUPP: ram0: WRITE_ZEROES is not supported (write_zeroes_max_bytes is 0)",
                submit(dev, Bio.writeZeroes(0, 1L << 30)).toString());
        assertEquals(257, ram0.pagesHeld());
        assertArrayEquals(big, read(dev, at, big.length));
        assertArrayEquals(sector, read(dev, 9, 512));
    }

    @Test
    void aTerabyteDiskCostsOnlyWhatIsWritten() {
        brd = new Brd(registry, BrdConfig.from(Map.of("rd_nr", "1", "rd_size", "1T")), pool);
        RamDisk ram0 = brd.disk("ram0");
        BlockDevice dev = ram0.device();
        assertEquals(1L << 40, dev.sizeBytes());
        long last = dev.capacity() - 1;
        byte[] data = pattern(512, 42);
        write(dev, last, data);
        assertArrayEquals(data, read(dev, last, 512));
        assertEquals(1, ram0.pagesHeld());
        assertEquals(PageStore.CHUNK_PAGES * (long) Units.PAGE_SIZE, pool.get("brd/ram0").bytesAllocated());
        // bio_check_eod: EIO.
        assertEquals(BlkStatus.Code.IOERR, submit(dev, Bio.read(last + 1, MemorySegment.ofArray(new byte[512]))).code());
    }

    @Test
    void reconfiguringAddsAndRemovesDevicesAndFreesTheirMemory() {
        brd = new Brd(registry, new BrdConfig(2, 1024), pool);
        write(registry.lookup("ram1"), 0, pattern(4096, 1));
        assertTrue(brd.configure(new BrdConfig(4, 1024)).isEmpty());
        assertEquals(4, brd.disks().size());
        assertNotNull(registry.lookup("1:3"));
        assertArrayEquals(pattern(4096, 1), read(registry.lookup("ram1"), 0, 4096), "existing devices keep their data");

        brd.configure(new BrdConfig(1, 1024));
        assertNull(registry.lookup("ram1"));
        assertEquals(List.of("brd/ram0"), pool.keys("brd/"), "removed devices' memory is freed");

        // Growing a device keeps its data.
        write(registry.lookup("ram0"), 0, pattern(4096, 9));
        brd.configure(new BrdConfig(1, 2048));
        assertEquals(2048L * 2, registry.lookup("ram0").capacity());
        assertArrayEquals(pattern(4096, 9), read(registry.lookup("ram0"), 0, 4096));
    }

    @Test
    void aHeldDeviceIsNeitherRemovedNorResized() {
        brd = new Brd(registry, new BrdConfig(3, 1024), pool);
        BlockDevice ram2 = registry.lookup("ram2");
        write(ram2, 0, pattern(512, 5));
        DevT dm0 = new DevT(DevT.DM_MAJOR, 0);
        registry.addHolder(ram2.devt(), dm0);

        List<String> warnings = brd.configure(new BrdConfig(1, 1024));
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("ram2 is in use by [254:0]"), warnings.get(0));
        assertSame(ram2, registry.lookup("ram2"));
        assertNull(registry.lookup("ram1"));
        assertArrayEquals(pattern(512, 5), read(ram2, 0, 512));

        warnings = brd.configure(new BrdConfig(1, 4096));
        assertEquals(1, warnings.size(), warnings.toString());
        assertEquals(1024L * 2, ram2.capacity(), "a held device keeps its size");

        // destroy() (the configuration was deleted) keeps a held device published, with its data,
        // as Linux keeps a disk that is held open: the mapped device above must not lose it.
        Brd destroyed = brd;
        brd.destroy();
        brd = null;
        assertEquals(List.of("brd/ram2"), pool.keys("brd/"));
        assertSame(ram2, registry.lookup("ram2"));
        assertNull(registry.lookup("ram0"), "devices nothing holds go");
        write(ram2, 8, pattern(512, 6));
        assertArrayEquals(pattern(512, 5), read(ram2, 0, 512));
        // When the last holder lets go, the device goes and its memory is freed.
        registry.removeHolder(ram2.devt(), dm0);
        assertNull(registry.lookup("ram2"));
        assertEquals(List.of(), pool.keys("brd/"));
        assertEquals(List.of(), destroyed.keptDisks());
        brd = new Brd(registry, new BrdConfig(1, 1024), pool);
        assertEquals(List.of("brd/ram0"), pool.keys("brd/"));
    }

    /**
     * An opener that is not a mapped device (an NBD client, dd) holds a disk too, as any open of
     * /dev/ram0 keeps 6.1's brd module in: neither removed nor resized, kept with its data when the
     * configuration goes, gone (memory freed) when the last opener closes it.
     */
    @Test
    void anOpenDeviceIsKeptUntilItsLastOpenerLetsGo() {
        brd = new Brd(registry, new BrdConfig(2, 1024), pool);
        BlockDevice ram1 = registry.lookup("ram1");
        write(ram1, 0, pattern(512, 7));
        org.dmstack.block.BdevHandle client = registry.open(ram1, "nbd client 127.0.0.1:40312");

        List<String> warnings = brd.configure(new BrdConfig(1, 1024));
        assertEquals(List.of("brd: ram1 is in use by [nbd client 127.0.0.1:40312]; it is kept although rd_nr=1 until it is no longer in use "
                + "and the configuration changes again"), warnings);
        assertSame(ram1, registry.lookup("ram1"));

        Brd destroyed = brd;
        brd.destroy();
        brd = null;
        assertSame(ram1, registry.lookup("ram1"), "kept open, with its data");
        assertArrayEquals(pattern(512, 7), read(ram1, 0, 512));
        client.close();
        assertNull(registry.lookup("ram1"), "the last opener let go: the device goes");
        assertEquals(List.of(), pool.keys("brd/"));
        assertEquals(List.of(), destroyed.keptDisks());
    }

    /** A device kept for its holders passes, with its data, to the next driver that configures it. */
    @Test
    void aKeptDeviceIsTakenOverByTheNextDriver() {
        brd = new Brd(registry, new BrdConfig(2, 1024), pool);
        BlockDevice ram0 = registry.lookup("ram0");
        write(ram0, 0, pattern(4096, 3));
        DevT dm0 = new DevT(DevT.DM_MAJOR, 0);
        registry.addHolder(ram0.devt(), dm0);
        brd.destroy();
        assertSame(ram0, registry.lookup("ram0"));

        brd = new Brd(registry, new BrdConfig(1, 1024), pool);
        BlockDevice taken = registry.lookup("ram0");
        assertNotSame(ram0, taken, "the new driver publishes its own device");
        assertEquals(ram0.devt(), taken.devt());
        assertArrayEquals(pattern(4096, 3), read(taken, 0, 4096));
        // The holder letting go now changes nothing: the device belongs to a configured driver.
        registry.removeHolder(ram0.devt(), dm0);
        assertSame(taken, registry.lookup("ram0"));
        assertEquals(List.of("brd/ram0"), pool.keys("brd/"));
    }

    @Test
    void contentsSurviveANewDriverWithTheSameConfiguration() {
        brd = new Brd(registry, new BrdConfig(2, 8192), pool);
        BlockDevice old = registry.lookup("ram1");
        write(old, 100, pattern(4096, 77));
        brd.close();
        assertNull(registry.lookup("ram1"));
        assertEquals(BlkStatus.Code.IOERR, submit(old, Bio.read(100, MemorySegment.ofArray(new byte[512]))).code(),
                "a removed device fails I/O");

        brd = new Brd(registry, new BrdConfig(2, 8192), pool);
        assertArrayEquals(pattern(4096, 77), read(registry.lookup("ram1"), 100, 4096));
    }

    @Test
    void aTakenNameRefusesTheWholeConfiguration() {
        GenDisk foreign = GenDisk.builder("ram1", new DevT(1, 1), 8, bio -> bio.endio(BlkStatus.OK)).build();
        registry.add(foreign);
        brd = new Brd(registry, new BrdConfig(1, 1024), pool);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> brd.configure(new BrdConfig(3, 1024)));
        assertEquals("brd: cannot create ram1 (1:1): ram1 1:1 already exists", e.getMessage());
        assertNull(registry.lookup("ram2"), "nothing was created");
        assertEquals(new BrdConfig(1, 1024), brd.config());
        assertEquals(List.of("brd/ram0"), pool.keys("brd/"));
    }

    @Test
    void badConfigurationsAreRefusedWithAReason() {
        assertEquals("brd: rd_nr must be between 0 and 1048575, not -1",
                assertThrows(IllegalArgumentException.class, () -> new BrdConfig(-1, 4096)).getMessage());
        assertEquals("brd: rd_size must be a positive size in KiB of at most 1099511627776 (1 PiB), not 0",
                assertThrows(IllegalArgumentException.class, () -> new BrdConfig(1, 0)).getMessage());
        assertEquals("brd: rd_nr must be a whole number of devices, not 'two'",
                assertThrows(IllegalArgumentException.class, () -> BrdConfig.from(Map.of("rd_nr", "two"))).getMessage());
        assertEquals("brd: rd_size must be a number of KiB or a size like 1G, not '12Q'",
                assertThrows(IllegalArgumentException.class, () -> BrdConfig.from(Map.of("rd_size", "12Q"))).getMessage());
        assertEquals("brd: rd_size must be a positive size in KiB of at most 1099511627776 (1 PiB), not 2199023255552",
                assertThrows(IllegalArgumentException.class, () -> BrdConfig.from(Map.of("rd_size", "2048T"))).getMessage());
        assertEquals(BrdConfig.defaults(), BrdConfig.from(Map.of()));
        assertEquals(new BrdConfig(2, 1 << 20), BrdConfig.from(Map.of("rd_nr", 2, "rd_size", "1G")));
    }

    @Test
    void accountsNothingAsLinux61sBrd() {
        brd = new Brd(registry, new BrdConfig(1, 1024), pool);
        BlockDevice ram0 = registry.lookup("ram0");
        String zero = "       0        0        0        0        0        0        0        0        0        0        0"
                + "        0        0        0        0        0        0";
        assertEquals("0", ram0.attributes().read("queue/iostats"));
        write(ram0, 8, pattern(4096, 1));
        read(ram0, 8, 4096);
        assertEquals(zero, ram0.attributes().read("stat"));
        // The flag is writable, as on Linux, and changes nothing: brd_submit_bio never accounts.
        ram0.attributes().write("queue/iostats", "1");
        assertEquals("1", ram0.attributes().read("queue/iostats"));
        read(ram0, 8, 4096);
        assertEquals(zero, ram0.attributes().read("stat"));
        assertEquals("       0        0", ram0.attributes().read("inflight"));
    }
}
