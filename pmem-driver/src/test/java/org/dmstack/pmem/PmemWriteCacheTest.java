package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two write-cache flags, counted in forces of the mapping (Memory.forces()). */
class PmemWriteCacheTest {
    @TempDir
    Path dir;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final Pmem pmem = new Pmem(registry);

    @AfterEach
    void close() {
        pmem.close();
    }

    private PmemDevice device(String file) {
        return pmem.create(PmemConfig.file(dir.resolve(file), 1 << 20, true));
    }

    @Test
    void withTheDaxWriteCacheOnDaxWritesAndFlushesForce() {
        DaxDevice dax = device("a.img").device().dax();
        assertTrue(dax.writeCache());
        long before = Memory.forces();
        FsDax.write(dax, 4096, IovIter.iovec(Io.pattern(100, 1)));
        assertEquals(before + 1, Memory.forces(), "copy_from_iter_flushcache forces what it copied");
        FsDax.store(dax, 8192, MemorySegment.ofArray(Io.pattern(100, 2)));
        assertEquals(before + 2, Memory.forces(), "dax_flush after stores forces");
        FsDax.fsync(dax, 0, 1 << 20);
        assertTrue(Memory.forces() > before + 2);
    }

    @Test
    void withTheDaxWriteCacheOffDaxWritesAndFlushesForceNothing() {
        BlockDevice dev = device("b.img").device();
        dev.attributes().write("dax/write_cache", "0");
        DaxDevice dax = dev.dax();
        long before = Memory.forces();
        FsDax.write(dax, 4096, IovIter.iovec(Io.pattern(100, 1)));
        FsDax.store(dax, 8192, MemorySegment.ofArray(Io.pattern(100, 2)));
        FsDax.fsync(dax, 0, 1 << 20);
        DaxMapping m = dax.directAccess(3, 1);
        dax.flush(m, 0, Units.PAGE_SIZE);
        assertEquals(before, Memory.forces(), "nothing at all is forced");
        assertEquals(100, FsDax.read(dax, 4096, IovIter.iovec(new byte[100])));
    }

    @Test
    void volatileRegionsAndCpuCachePlatformsStartWithoutDaxWriteCache() {
        PmemDevice vol = pmem.create(PmemConfig.file(dir.resolve("v.img"), 1 << 20, true).withVolatile(true));
        assertEquals("0", vol.device().attributes().read("dax/write_cache"));
        assertEquals("write back", vol.device().attributes().read("queue/write_cache"));
        PmemDevice anon = pmem.create(PmemConfig.anonymous(1 << 20));
        assertEquals("0", anon.device().attributes().read("dax/write_cache"));
        PmemDevice cpu = pmem.addRegion(Io.region(7, Region.Type.PERSISTENT, 1 << 20, Region.Backing.file(dir.resolve("c.img"), true),
                Region.PersistenceDomain.CPU_CACHE, List.of()));
        assertEquals("0", cpu.device().attributes().read("dax/write_cache"));
        PmemDevice adr = pmem.addRegion(Io.persistent(8, dir.resolve("d.img"), 1 << 20));
        assertEquals("1", adr.device().attributes().read("dax/write_cache"));

        long before = Memory.forces();
        for (PmemDevice d : List.of(vol, anon, cpu)) {
            FsDax.write(d.device().dax(), 0, IovIter.iovec(Io.pattern(4096, 3)));
            FsDax.fsync(d.device().dax(), 0, 4096);
        }
        assertEquals(before, Memory.forces());
    }

    @Test
    void blockFlushAndFuaForceTheMappingUnlessTheQueueIsWriteThrough() {
        BlockDevice dev = device("c.img").device();
        assertEquals("0", dev.attributes().read("queue/fua"), "no region, no DIMMs: nvdimm_has_flush cannot tell");
        long before = Memory.forces();
        Io.write(dev, 0, Io.pattern(4096, 1));
        assertEquals(before, Memory.forces(), "a plain write only reaches the cache");
        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
        assertEquals(before + 1, Memory.forces());
        Io.write(dev, 8, Io.pattern(4096, 2), BioFlag.FUA);
        assertEquals(before + 2, Memory.forces());
        Io.write(dev, 16, Io.pattern(4096, 3), BioFlag.PREFLUSH, BioFlag.FUA);
        assertEquals(before + 3, Memory.forces(), "the preflush finds nothing unforced (the flush after the FUA write forced it)");

        dev.attributes().write("queue/write_cache", "write through");
        Io.write(dev, 32, Io.pattern(4096, 5));
        Io.submit(dev, Bio.flush());
        Io.write(dev, 24, Io.pattern(4096, 4), BioFlag.PREFLUSH, BioFlag.FUA);
        assertEquals(before + 3, Memory.forces(), "without a write cache flushes are dropped");
    }

    /**
     * A FLUSH forces what block writes wrote since the last one, in 64 KiB chunks, and nothing
     * else: msync is asked to cover what was written, not the whole device.
     */
    @Test
    void aFlushForcesOnlyWhatWasWrittenSinceTheLastOne() {
        BlockDevice dev = pmem.create(PmemConfig.file(dir.resolve("big.img"), 64 << 20, true)).device();
        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
        long forces = Memory.forces(), bytes = Memory.forcedBytes();
        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
        assertEquals(forces, Memory.forces(), "nothing written, nothing forced");

        Io.write(dev, 0, Io.pattern(4096, 1));
        Io.write(dev, 8, Io.pattern(4096, 2));                  // the same 64 KiB chunk
        Io.write(dev, (32 << 20) >> 9, Io.pattern(8192, 3));   // 32 MiB on: another chunk
        Io.write(dev, ((64 << 20) >> 9) - 8, Io.pattern(4096, 4)); // the last chunk
        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
        assertEquals(forces + 3, Memory.forces(), "one force per run of written chunks");
        assertEquals(bytes + 3 * 65536, Memory.forcedBytes());

        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
        assertEquals(forces + 3, Memory.forces(), "what was forced is not forced again");
        // Neighbouring chunks are one run.
        Io.write(dev, ((64 << 10) >> 9) - 8, Io.pattern(8192, 5));
        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
        assertEquals(forces + 4, Memory.forces());
        assertEquals(bytes + 5 * 65536, Memory.forcedBytes());
        assertArrayEquals(Io.pattern(8192, 3), Io.read(dev, (32 << 20) >> 9, 8192));
    }

    private Region regionWithDimms(int id, String file, List<Long> flushHints) {
        Region r = Io.persistent(id, dir.resolve(file), 1 << 20);
        return new Region(r.name(), r.id(), r.type(), r.spaStart(), r.size(), r.backing(), r.persistenceDomain(), 1,
                List.of(new Region.Mapping("nmem0", 1, 0, 1 << 20, 0)), flushHints, 0, List.of());
    }

    /**
     * pmem_attach_disk: fua = nvdimm_has_flush(region), which is 1 only when a DIMM of the region
     * has flush hint addresses; QEMU's NFIT has none, so its pmem has queue/fua 0 and still a
     * write-back queue. A FUA write is then made durable by blk-flush as the write and a flush
     * after it (one force of what was written), and with FUA by forcing the written range.
     */
    @Test
    void fuaOnlyWhenTheRegionHasFlushHintsAndFuaWritesAreDurableEitherWay() {
        BlockDevice hinted = pmem.addRegion(regionWithDimms(3, "h.img", List.of(0xc0000000L))).device();
        assertEquals("1", hinted.attributes().read("queue/fua"));
        BlockDevice qemu = pmem.addRegion(regionWithDimms(4, "q.img", List.of())).device();
        assertEquals("0", qemu.attributes().read("queue/fua"));
        assertEquals("write back", qemu.attributes().read("queue/write_cache"));

        for (BlockDevice dev : List.of(hinted, qemu)) {
            long before = Memory.forces();
            Io.write(dev, 8, Io.pattern(4096, 5), BioFlag.FUA);
            assertEquals(before + 1, Memory.forces(), dev.name() + ": the FUA write is forced before it completes");
            Io.write(dev, 16, Io.pattern(4096, 6));
            assertEquals(before + 1, Memory.forces(), dev.name() + ": a plain write is not");
        }
    }

    /**
     * The queue attributes Linux 6.1 shows for pmem: pmem_attach_disk sets the physical block size
     * to a page and blk_queue_max_hw_sectors(UINT_MAX), which leaves max_sectors at
     * BLK_DEF_MAX_SECTORS; no discard, no write-zeroes, not rotational (blk-sysfs.c formats).
     */
    @Test
    void queueAttributesAreLinuxs() {
        BlockDevice dev = pmem.addRegion(regionWithDimms(5, "s.img", List.of())).device();
        String[][] expected = {
            {"alignment_offset", "0"},
            {"discard_alignment", "0"},
            {"queue/logical_block_size", "512"},
            {"queue/physical_block_size", "4096"},
            {"queue/minimum_io_size", "4096"},
            {"queue/optimal_io_size", "0"},
            {"queue/rotational", "0"},
            {"queue/chunk_sectors", "0"},
            {"queue/discard_granularity", "0"},
            {"queue/discard_max_bytes", "0"},
            {"queue/discard_max_hw_bytes", "0"},
            {"queue/write_zeroes_max_bytes", "0"},
            {"queue/max_sectors_kb", "1280"},
            {"queue/max_hw_sectors_kb", "2147483647"},
            {"queue/fua", "0"},
            {"queue/write_cache", "write back"},
            // block/genhd.c: minors 0 (numbered from the extended range), partitions allowed.
            {"range", "0"},
            {"ext_range", "256"},
            {"capability", "0"},
            {"hidden", "0"},
            {"removable", "0"},
            // blk_set_default_limits and blk_alloc_queue, as a bio-based queue keeps them.
            {"queue/max_segments", "128"},
            {"queue/max_discard_segments", "1"},
            {"queue/max_integrity_segments", "0"},
            {"queue/max_segment_size", "65536"},
            {"queue/nr_requests", "128"},
            {"queue/read_ahead_kb", "128"},
            {"queue/scheduler", "none"},
            {"queue/zoned", "none"},
            {"queue/dma_alignment", "511"},
            {"queue/write_same_max_bytes", "0"},
            {"queue/discard_zeroes_data", "0"},
            {"queue/iostats", "0"},
        };
        for (String[] e : expected) assertEquals(e[1], dev.attributes().read(e[0]), e[0]);
    }
}
