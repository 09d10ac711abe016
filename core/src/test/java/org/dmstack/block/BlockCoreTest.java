package org.dmstack.block;

import org.dmstack.units.Units;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** GenDisk's checks and attributes, the registry, bad blocks and units. */
class BlockCoreTest {
    @Test
    void misalignedAndOutOfRangeBiosNeverReachTheDriver() {
        MemDisk d = new MemDisk("pmem0", new DevT(259, 0), 64, true, true, QueueLimits.of(4096, 4096));
        d.logging = true;
        Bio half = Bio.write(4, Arena.ofAuto().allocate(4096));
        d.disk.submit(half);
        assertEquals("INVAL: pmem0: WRITE at sector 4 of 4096 bytes is not aligned to the logical block size 4096", half.await().toString());
        Bio beyond = Bio.discard(64, 4096);
        d.disk.submit(beyond);
        // bio_check_eod: EIO, and the kernel's log lines (rw is bi_opf: REQ_OP_DISCARD).
        assertEquals("IOERR: attempt to access beyond end of device pmem0: rw=3, sector=64, nr_sectors = 8 limit=64", beyond.await().toString());
        Bio negative = Bio.read(-8, Arena.ofAuto().allocate(4096));
        d.disk.submit(negative);
        assertEquals(BlkStatus.Code.IOERR, negative.await().code());
        assertEquals(List.of(), d.log);
    }

    /**
     * submit_bio_noacct (block/blk-core.c, 6.1): REQ_OP_DISCARD without bdev_max_discard_sectors
     * and REQ_OP_WRITE_ZEROES without max_write_zeroes_sectors end with BLK_STS_NOTSUPP
     * (EOPNOTSUPP) before the driver sees them, but only after bio_check_eod (EIO).
     */
    @Test
    void discardAndWriteZeroesAreRefusedWhereTheLimitsOfferNone() {
        MemDisk d = new MemDisk("ram0", new DevT(1, 0), 64, false, false, QueueLimits.of(512, 4096));
        d.logging = true;
        Bio discard = Bio.discard(0, 4096);
        d.disk.submit(discard);
        assertEquals("NOTSUPP: ram0: DISCARD is not supported (discard_max_bytes is 0)", discard.await().toString());
        Bio zeroes = Bio.writeZeroes(8, 4096);
        d.disk.submit(zeroes);
        assertEquals("NOTSUPP: ram0: WRITE_ZEROES is not supported (write_zeroes_max_bytes is 0)", zeroes.await().toString());
        Bio beyond = Bio.writeZeroes(64, 512);
        d.disk.submit(beyond);
        assertEquals("IOERR: attempt to access beyond end of device ram0: rw=9, sector=64, nr_sectors = 1 limit=64", beyond.await().toString());
        assertEquals(List.of(), d.log);

        MemDisk offers = new MemDisk("pmem0", new DevT(259, 0), 64, false, false,
                QueueLimits.of(512, 4096).setDiscard(QueueLimits.UNLIMITED, 4096).setMaxWriteZeroesSectors(QueueLimits.UNLIMITED));
        offers.logging = true;
        offers.disk.submit(Bio.discard(0, 4096));
        offers.disk.submit(Bio.writeZeroes(8, 4096));
        assertEquals(List.of("DISCARD 0+8", "WRITE_ZEROES 8+8"), offers.log);
    }

    /**
     * blk-flush (blk_flush_policy): a FUA write to a queue with a write cache but no FUA is sent
     * as the write without FUA and then a flush, and completes only when the flush has; a write
     * that fails ends the bio without the flush.
     */
    @Test
    void aFuaWriteWithoutFuaSupportBecomesTheWriteThenAFlush() {
        List<String> seen = new java.util.ArrayList<>();
        boolean[] failWrites = {false};
        GenDisk disk = GenDisk.builder("pmem9", new DevT(259, 9), 64, bio -> {
            seen.add(bio.op() + bio.flags().toString());
            bio.endio(failWrites[0] && bio.op() == BioOp.WRITE ? BlkStatus.ioerr("media") : BlkStatus.OK);
        }).writeCache(true, false).build();
        assertEquals("0", disk.attributes().read("queue/fua"));
        Bio fua = Bio.write(8, Arena.ofAuto().allocate(512), BioFlag.PREFLUSH, BioFlag.FUA);
        disk.submit(fua);
        assertEquals(BlkStatus.OK, fua.await());
        assertEquals(List.of("WRITE[PREFLUSH]", "FLUSH[PREFLUSH]"), seen);

        seen.clear();
        failWrites[0] = true;
        Bio failing = Bio.write(8, Arena.ofAuto().allocate(512), BioFlag.FUA);
        disk.submit(failing);
        assertEquals("IOERR: media", failing.await().toString());
        assertEquals(List.of("WRITE[]"), seen);

        GenDisk withFua = GenDisk.builder("pmem8", new DevT(259, 8), 64, bio -> {
            seen.add(bio.op() + bio.flags().toString());
            bio.endio(BlkStatus.OK);
        }).writeCache(true, true).build();
        seen.clear();
        withFua.submit(Bio.write(0, Arena.ofAuto().allocate(512), BioFlag.FUA));
        assertEquals(List.of("WRITE[FUA]"), seen);
    }

    @Test
    void withoutAWriteCacheFlushesCompleteAtOnceAndFlagsAreDropped() {
        MemDisk d = new MemDisk("ram0", new DevT(1, 0), 64, false, false);
        d.logging = true;
        Bio flush = Bio.flush();
        d.disk.submit(flush);
        assertEquals(BlkStatus.OK, flush.await());
        Bio fua = Bio.write(0, Arena.ofAuto().allocate(512), BioFlag.PREFLUSH, BioFlag.FUA);
        d.disk.submit(fua);
        assertEquals(BlkStatus.OK, fua.await());
        assertEquals(List.of("WRITE 0+1"), d.log);
    }

    @Test
    void writeCacheAttributeIsWritableLikeSysfs() {
        MemDisk d = new MemDisk("pmem0", new DevT(259, 0), 64, true, true);
        Attributes a = d.disk.attributes();
        assertEquals("write back", a.read("queue/write_cache"));
        a.write("queue/write_cache", "write through\n");
        assertFalse(d.disk.writeCache());
        assertEquals("write through", a.read("queue/write_cache"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.write("queue/write_cache", "sometimes"));
        assertEquals("write_cache: Invalid argument: 'sometimes' (expected \"write back\" or \"write through\")", e.getMessage());
        assertEquals("write through", a.read("queue/write_cache"));
        assertEquals("size: Permission denied", assertThrows(IllegalArgumentException.class, () -> a.write("size", "1")).getMessage());
        assertEquals("nope: No such file or directory", assertThrows(IllegalArgumentException.class, () -> a.read("nope")).getMessage());
        a.write("dax/write_cache", "0");
        assertFalse(d.disk.dax().writeCache());
        assertEquals("64", a.read("size"));
        assertEquals("259:0", a.read("dev"));
        assertEquals("4096", a.read("queue/minimum_io_size"));
        assertEquals("1", a.read("queue/dax"));
    }

    /**
     * blk-sysfs.c (6.1) stores: max_sectors_kb takes a page up to max_hw_sectors_kb
     * (queue_max_sectors_store), discard_max_bytes a multiple of discard_granularity clamped to
     * discard_max_hw_bytes (queue_discard_max_store), read_ahead_kb whole pages
     * (queue_ra_store), nr_requests only on blk-mq queues (queue_requests_store: EINVAL); values
     * above UINT_MAX are EINVAL (queue_var_store). A refused value changes nothing.
     */
    @Test
    void writableQueueAttributesTakeWhatLinuxTakes() {
        MemDisk d = new MemDisk("ram0", new DevT(1, 0), 64, false, false,
                QueueLimits.of(512, 4096).setDiscard(2048, 4096));
        Attributes a = d.disk.attributes();
        a.write("queue/max_sectors_kb", "64");
        assertEquals("64", a.read("queue/max_sectors_kb"));
        assertEquals(128, d.disk.limits().maxSectors());
        for (String bad : List.of("128", "3", "-1", "x", "4294967296")) {
            assertThrows(IllegalArgumentException.class, () -> a.write("queue/max_sectors_kb", bad), bad);
        }
        assertEquals("64", a.read("queue/max_sectors_kb"));
        assertEquals("127", a.read("queue/max_hw_sectors_kb"));

        assertEquals("1048576", a.read("queue/discard_max_bytes"));
        assertThrows(IllegalArgumentException.class, () -> a.write("queue/discard_max_bytes", "512"));
        a.write("queue/discard_max_bytes", "8192");
        assertEquals("8192", a.read("queue/discard_max_bytes"));
        a.write("queue/discard_max_bytes", "4194304");
        assertEquals("1048576", a.read("queue/discard_max_bytes"), "no more than discard_max_hw_bytes");

        assertEquals("128", a.read("queue/read_ahead_kb"));
        a.write("queue/read_ahead_kb", "1023");
        assertEquals("1020", a.read("queue/read_ahead_kb"));
        assertEquals("nr_requests: Invalid argument", assertThrows(IllegalArgumentException.class, () -> a.write("queue/nr_requests", "64")).getMessage());
        assertEquals("128", a.read("queue/nr_requests"));
    }

    /**
     * disk_badblocks_store (block/genhd.c, badblocks_store in block/badblocks.c): "SECTOR LENGTH"
     * adds to the driver's list, which then fails reads there; a disk without a list is ENXIO.
     * queue_nonrot_store: rotational takes a number.
     */
    @Test
    void badblocksAndRotationalAreWritableLikeSysfs() {
        BadBlocks list = new BadBlocks();
        GenDisk pmem0 = GenDisk.builder("pmem0", new DevT(259, 0), 64, bio -> bio.endio(BlkStatus.OK)).badBlocks(list).build();
        pmem0.attributes().write("badblocks", "17 3\n");
        pmem0.attributes().write("badblocks", "20 2");
        assertEquals("17 5", pmem0.attributes().read("badblocks"));
        for (String bad : List.of("17", "17 0", "x 1", "17 1 2")) {
            assertThrows(IllegalArgumentException.class, () -> pmem0.attributes().write("badblocks", bad), bad);
        }
        assertEquals(List.of(new BadBlocks.Range(17, 5)), list.ranges());
        GenDisk ram0 = GenDisk.builder("ram0", new DevT(1, 0), 64, bio -> bio.endio(BlkStatus.OK)).build();
        assertEquals("badblocks: No such device or address",
                assertThrows(IllegalArgumentException.class, () -> ram0.attributes().write("badblocks", "1 1")).getMessage());
        assertEquals("", ram0.attributes().read("badblocks"));

        assertEquals("0", ram0.attributes().read("queue/rotational"));
        ram0.attributes().write("queue/rotational", "1");
        assertEquals("1", ram0.attributes().read("queue/rotational"));
    }

    @Test
    void registryFindsDevicesByNamePathAndNumberAndKeepsNumbersWithNames() {
        BlockDeviceRegistry r = new BlockDeviceRegistry();
        DevT first = r.allocate(DevT.BLOCK_EXT_MAJOR, "pmem0");
        DevT second = r.allocate(DevT.BLOCK_EXT_MAJOR, "pmem1");
        assertEquals("259:0 259:1", first + " " + second);
        MemDisk d = new MemDisk("pmem1", second, 8);
        r.add(d.disk);
        assertSame(d.disk, r.lookup("pmem1"));
        assertSame(d.disk, r.lookup("/dev/pmem1"));
        assertSame(d.disk, r.lookup("259:1"));
        assertNull(r.lookup("pmem9"));
        IllegalStateException dup = assertThrows(IllegalStateException.class, () -> r.add(new MemDisk("pmem1", new DevT(259, 5), 8).disk));
        assertEquals("Device pmem1 already exists (259:1)", dup.getMessage());
        r.remove(d.disk);
        assertEquals(second, r.allocate(DevT.BLOCK_EXT_MAJOR, "pmem1"), "the same name gets its number back");
        assertEquals(new DevT(259, 2), r.allocate(DevT.BLOCK_EXT_MAJOR, "pmem7"));
    }

    @Test
    void badBlocksMergeSplitAndShowLikeLinux() {
        BadBlocks bb = new BadBlocks();
        bb.set(8, 8);
        bb.set(16, 4);
        bb.set(100, 1);
        assertEquals("8 12\n100 1\n", bb.show());
        assertTrue(bb.isBad(19, 1));
        assertFalse(bb.isBad(20, 80));
        assertEquals(100, bb.firstBad(20, 100));
        bb.clear(10, 4);
        assertEquals("8 2\n14 6\n100 1\n", bb.show());
        assertEquals(List.of(new BadBlocks.Range(14, 6), new BadBlocks.Range(100, 1)), bb.overlaps(15, 90));
        bb.clear(0, 1000);
        assertTrue(bb.isEmpty());
    }

    @Test
    void sizesAsPeopleTypeThem() {
        assertEquals(4L << 30, Units.parseSize("4G"));
        assertEquals(1536, Units.parseSize("1536"));
        assertEquals(2L << 20, Units.parseSize("2MiB"));
        assertEquals(1L << 40, Units.parseSize("1t"));
        assertEquals("Invalid size '4X': expected a number with an optional K, M, G or T suffix",
                assertThrows(IllegalArgumentException.class, () -> Units.parseSize("4X")).getMessage());
        assertEquals("1.5G", Units.humanSize(3L << 29));
        assertEquals("512B", Units.humanSize(512));
        assertEquals("1T", Units.humanSize(1L << 40));
    }

    @Test
    void aBioEndsOnceAndWaitersAreReleasedEvenWhenItsCallbackFails() {
        Bio bio = Bio.read(0, Arena.ofAuto().allocate(512));
        CompletableFuture<BlkStatus> waiting = bio.completion().toCompletableFuture();
        List<BlkStatus> heard = new ArrayList<>();
        bio.setEndIo((b, status) -> {
            heard.add(status);
            throw new IllegalStateException("a broken stacking driver");
        });
        assertThrows(IllegalStateException.class, () -> bio.endio(BlkStatus.ioerr("first")));
        bio.endio(BlkStatus.OK);
        assertEquals(List.of(BlkStatus.ioerr("first")), heard, "only the first end counts");
        assertEquals(BlkStatus.ioerr("first"), waiting.join());
        assertEquals(BlkStatus.ioerr("first"), bio.await());
        assertTrue(bio.isDone());
    }

    /**
     * set_disk_ro: the ro attribute shows it, and the disk refuses what would change it before the
     * driver sees it (bio_check_ro's operations: op_is_write; an empty flush passes); reads go on.
     */
    @Test
    void aReadOnlyDiskRefusesWritesAndPassesReadsAndFlushes() {
        MemDisk d = new MemDisk("pmem0", new DevT(259, 0), 64, true, true,
                QueueLimits.of(512, 4096).setDiscard(QueueLimits.UNLIMITED, 4096).setMaxWriteZeroesSectors(QueueLimits.UNLIMITED));
        d.disk.submit(Bio.write(0, Arena.ofAuto().allocate(512).fill((byte) 7)));
        d.logging = true;
        assertEquals("0", d.disk.attributes().read("ro"));
        d.disk.setReadOnly(true);
        assertTrue(d.disk.readOnly());
        assertEquals("1", d.disk.attributes().read("ro"));
        for (Bio write : List.of(Bio.write(0, Arena.ofAuto().allocate(512)), Bio.discard(0, 512),
                Bio.writeZeroes(0, 512), Bio.write(8, Arena.ofAuto().allocate(512), BioFlag.PREFLUSH, BioFlag.FUA))) {
            d.disk.submit(write);
            assertEquals("IOERR: Trying to write to read-only block-device pmem0", write.await().toString());
        }
        Bio read = Bio.read(0, Arena.ofAuto().allocate(512));
        d.disk.submit(read);
        Bio flush = Bio.flush();
        d.disk.submit(flush);
        assertEquals(BlkStatus.OK, read.await());
        assertEquals(BlkStatus.OK, flush.await());
        assertEquals(List.of("READ 0+1", "FLUSH 0+0[PREFLUSH]"), d.log);
        assertEquals(7, d.read(0, 1)[0]);

        d.disk.setReadOnly(false);
        assertEquals("0", d.disk.attributes().read("ro"));
        Bio again = Bio.write(0, Arena.ofAuto().allocate(512));
        d.disk.submit(again);
        assertEquals(BlkStatus.OK, again.await());
    }

    /**
     * BLKROSET (blockdev --setro/--setrw) beside set_disk_ro: get_disk_ro is either, so the user's
     * --setrw does not make writable what the driver made read-only, and --setro refuses writes as
     * the driver's flag does.
     */
    @Test
    void usersReadOnlyBesideTheDrivers() {
        MemDisk d = new MemDisk("pmem0", new DevT(259, 0), 64, true, true);
        d.disk.setPolicyReadOnly(true);
        assertEquals("1", d.disk.attributes().read("ro"));
        assertTrue(d.disk.dax().readOnly());
        Bio write = Bio.write(0, Arena.ofAuto().allocate(512));
        d.disk.submit(write);
        assertEquals("IOERR: Trying to write to read-only block-device pmem0", write.await().toString());
        d.disk.setReadOnly(true);
        d.disk.setPolicyReadOnly(false);
        assertTrue(d.disk.readOnly(), "the driver's flag stays");
        d.disk.setReadOnly(false);
        assertFalse(d.disk.readOnly());
        assertFalse(d.disk.dax().readOnly());
        assertEquals("0", d.disk.attributes().read("ro"));
    }

    /**
     * read_ahead_kb as 6.1 keeps it: disk_update_readahead's max(2 x io_opt, 128 KiB) when the disk
     * is added and whenever its limits are restacked; queue_ra_store in whole pages, up to UINT_MAX.
     */
    @Test
    void readAheadAsDiskUpdateReadaheadSetsIt() {
        MemDisk d = new MemDisk("ram0", new DevT(1, 0), 64, false, false);
        assertEquals("128", d.disk.attributes().read("queue/read_ahead_kb"));
        d.disk.attributes().write("queue/read_ahead_kb", "1023");
        assertEquals("1020", d.disk.attributes().read("queue/read_ahead_kb"));
        d.disk.attributes().write("queue/read_ahead_kb", "0\n");
        assertEquals("0", d.disk.attributes().read("queue/read_ahead_kb"));
        for (String bad : List.of("-1", "x", "4294967296", "")) {
            assertThrows(IllegalArgumentException.class, () -> d.disk.attributes().write("queue/read_ahead_kb", bad), bad);
        }
        assertEquals("0", d.disk.attributes().read("queue/read_ahead_kb"));
        // A striped table's io_opt of 256 KiB: 512 KiB, which the restacking sets again.
        d.disk.setLimits(QueueLimits.of(512, 512).setIoOpt(256 << 10));
        assertEquals("512", d.disk.attributes().read("queue/read_ahead_kb"));
        d.disk.setLimits(QueueLimits.of(512, 512).setIoOpt(32 << 10));
        assertEquals("128", d.disk.attributes().read("queue/read_ahead_kb"));
    }
}
