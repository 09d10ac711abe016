package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.IoAccounting;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What dm-N's stat and @stats count, as Linux 6.1's drivers/md/dm.c counts it: one I/O per dm_io
 * (dm_io_acct), started when a target takes a clone (__map_bio: DM_MAPIO_REMAPPED through
 * dm_submit_bio_remap, DM_MAPIO_SUBMITTED), never for a clone it kills (DM_MAPIO_KILL) or a bio
 * no table maps. The disks below count as pmem with queue/iostats set; every bio there takes 1 ms
 * of a clock they move.
 */
class DmAccountingTest {
    private static final String ZERO = "       0        0        0        0        0        0        0        0        0        0        0"
            + "        0        0        0        0        0        0";

    private final AtomicLong now = new AtomicLong(1000);
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry, now::get);
    private final List<Bio> seen = new java.util.ArrayList<>();

    DmAccountingTest() {
        for (int i = 0; i < 2; i++) {
            // A write cache without FUA, as pmem without flush hints: the disk turns a FUA write into write + flush.
            registry.add(GenDisk.builder("pmem" + i, new DevT(259, i), 4096, bio -> {
                seen.add(bio);
                now.incrementAndGet();
                bio.endio(BlkStatus.OK);
            }).clock(now::get).writeCache(true, false).accounting(IoAccounting.IOSTATS, true).build());
        }
        dm.targetTypes().register(new TestLinear.Type());
    }

    @AfterEach
    void close() {
        dm.close();
    }

    private String stat(String name) {
        return registry.lookup(name).attributes().read("stat");
    }

    private static BlkStatus run(BlockDevice dev, Bio bio) {
        dev.submit(bio);
        return bio.await();
    }

    private static MemorySegment sectors(int n) {
        return MemorySegment.ofArray(new byte[n * 512]);
    }

    @Test
    void aBioAcrossTwoTargetsIsTwoIosOnTheMappedDiskAndInItsStats() {
        MappedDevice lv = dm.create("lv", "0 1024 testlinear 259:0 0\n1024 1024 testlinear 259:1 0");
        assertEquals("0", dm.message("lv", 0, List.of("@stats_create", "-", "/2")));
        // 16 sectors at 1016: 8 on pmem0 (1000..1001), then the remainder, its own dm_io, 8 on pmem1 (1001..1002).
        assertEquals(BlkStatus.OK, run(lv.disk(), Bio.write(1016, sectors(16))));
        assertEquals("       0        0        0        0        2        0       16        2        0        3        2"
                + "        0        0        0        0        0        0", stat("dm-0"));
        assertEquals("       0        0        0        0        1        0        8        1        0        2        1"
                + "        0        0        0        0        0        0", stat("pmem0"));
        assertEquals("       0        0        0        0        1        0        8        1        0        2        1"
                + "        0        0        0        0        0        0", stat("pmem1"));
        // Each area counts the dm_io that fell in it.
        assertEquals("0+1024 0 0 0 0 1 0 8 1 0 1 1 0 1\n1024+1024 0 0 0 0 1 0 8 1 0 1 1 0 1\n",
                dm.message("lv", 0, List.of("@stats_print", "0")));
    }

    @Test
    void whatATargetKillsOrNoTableMapsIsNotCounted() {
        MappedDevice bad = dm.create("bad", "0 8 error");
        assertEquals("0", dm.message("bad", 0, List.of("@stats_create", "-", "8")));
        assertEquals(BlkStatus.Code.IOERR, run(bad.disk(), Bio.read(0, sectors(8))).code());
        assertEquals(BlkStatus.Code.IOERR, run(bad.disk(), Bio.write(0, sectors(8))).code());
        assertEquals(ZERO, stat("dm-0"));
        assertEquals("0+8 0 0 0 0 0 0 0 0 0 0 0 0 0\n", dm.message("bad", 0, List.of("@stats_print", "0")));
        assertEquals("       0        0", bad.disk().attributes().read("inflight"));

        // Without a table the device has no size: the block layer refuses the bio before dm sees it (bio_check_eod: EIO).
        MappedDevice empty = dm.create("empty", "");
        assertEquals(BlkStatus.Code.IOERR, run(empty.disk(), Bio.read(0, sectors(8))).code());
        assertEquals(ZERO, stat("dm-1"));

        // zero's map ends the bio itself (DM_MAPIO_SUBMITTED): counted.
        MappedDevice z = dm.create("z", "0 8 zero");
        assertEquals(BlkStatus.OK, run(z.disk(), Bio.read(0, sectors(8))));
        assertEquals("       1        0        8        0        0        0        0        0        0        1        0"
                + "        0        0        0        0        0        0", stat("dm-2"));
    }

    @Test
    void aFuaWriteGoesDownWithFuaAndCountsOnceOnEachDisk() {
        MappedDevice lv = dm.create("lv", "0 1024 testlinear 259:0 0");
        assertEquals(BlkStatus.OK, run(lv.disk(), Bio.write(0, sectors(8), BioFlag.FUA)));
        // dm-0 is bio-based: no blk-flush turns the FUA write into write + flush there; pmem0 does it
        // for itself (1000..1002) and accounts the one bio it was given.
        assertEquals(List.of(BioOp.WRITE, BioOp.FLUSH), seen.stream().map(Bio::op).toList());
        assertEquals("       0        0        0        0        1        0        8        2        0        3        2"
                + "        0        0        0        0        0        0", stat("dm-0"));
        assertEquals("       0        0        0        0        1        0        8        2        0        3        2"
                + "        0        0        0        0        0        0", stat("pmem0"));
    }
}
