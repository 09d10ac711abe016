package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The stat and inflight files after known bios, at known times (a clock the test moves). */
class DiskStatsTest {
    private final AtomicLong now = new AtomicLong(1000);
    private final ArrayDeque<Bio> held = new ArrayDeque<>();

    private GenDisk disk(boolean writeCache) {
        return accounted("pmem0", held::add).writeCache(writeCache, false).build();
    }

    /** A disk that accounts its bios, as pmem with queue/iostats set (bio-based: bio_start_io_acct). */
    private GenDisk.Builder accounted(String name, BioHandler handler) {
        return GenDisk.builder(name, new DevT(259, name.charAt(name.length() - 1) - '0'), 2048, handler).clock(now::get)
                .limits(QueueLimits.of(512, 512).setDiscard(QueueLimits.UNLIMITED, 512).setMaxWriteZeroesSectors(QueueLimits.UNLIMITED))
                .accounting(IoAccounting.IOSTATS, true);
    }

    /** A disk that accounts as blk-mq accounts requests, as nbd does. */
    private GenDisk.Builder requests(String name, BioHandler handler) {
        return GenDisk.builder(name, new DevT(43, name.charAt(name.length() - 1) - '0'), 2048, handler).clock(now::get)
                .accounting(IoAccounting.REQUESTS, true);
    }

    /** Submits a bio at time {@code at} and ends it at {@code end}. */
    private void io(GenDisk disk, Bio bio, long at, long end) {
        now.set(at);
        disk.submit(bio);
        now.set(end);
        held.removeFirst().endio(BlkStatus.OK);
    }

    private static MemorySegment buf(int sectors) {
        return MemorySegment.ofArray(new byte[sectors * 512]);
    }

    @Test
    void everyFieldAsLinuxCountsABioBasedDisk() {
        GenDisk disk = disk(true);
        now.set(1000);
        Bio read = Bio.read(0, buf(8));
        disk.submit(read);
        now.set(1005);
        // The first start counts a millisecond (bd_stamp starts at 0); in flight, part_stat_show brings io_ticks up to now.
        assertEquals("       1        0        8        0        0        0        0        0        1        6        0"
                + "        0        0        0        0        0        0", disk.attributes().read("stat"));
        assertEquals("       1        0", disk.attributes().read("inflight"));
        now.set(1007);
        held.removeFirst().endio(BlkStatus.OK);

        io(disk, Bio.write(8, buf(16)), 1010, 1013);
        io(disk, Bio.discard(64, 64 * 512), 1020, 1021);
        io(disk, Bio.flush(), 1030, 1034);
        io(disk, Bio.write(200, buf(8), BioFlag.PREFLUSH), 1040, 1042);
        io(disk, Bio.writeZeroes(300, 8 * 512), 1050, 1050);
        // Refused before accounting, as bio_check_eod refuses it.
        now.set(1060);
        Bio beyond = Bio.read(2048, buf(8));
        disk.submit(beyond);
        assertEquals(BlkStatus.Code.IOERR, beyond.await().code());

        // pmem_submit_bio's bio_start_io_acct counts by op_stat_group(bio_op(bio)) (include/linux/blkdev.h,
        // block/blk-core.c bdev_start_io_acct): an empty flush is blkdev_issue_flush's REQ_OP_WRITE |
        // REQ_PREFLUSH, a write of 0 sectors; PREFLUSH adds nothing; the flush fields stay 0 (only
        // blk-flush's blk_account_io_flush, for blk-mq, counts them).
        // reads: 1 I/O, 8 sectors, 7 ms; writes: 4 (write, empty flush, PREFLUSH write, WRITE_ZEROES),
        // 32 sectors, 3 + 4 + 2 + 0 ms; io_ticks (1 + 7) + (1 + 3) + (1 + 1) + (1 + 4) + (1 + 2) + (1 + 0);
        // discards 1, 64 sectors, 1 ms; time_in_queue 7 + 9 + 1.
        assertEquals("       1        0        8        7        4        0       32        9        0       23       17"
                + "        1        0       64        1        0        0", disk.attributes().read("stat"));
        assertEquals("       0        0", disk.attributes().read("inflight"));
        assertEquals(DiskStats.Snapshot.parse(disk.attributes().read("stat")).writeSectors(), 32);
    }

    @Test
    void aDiskWithoutAWriteCacheNeverSeesAFlush() {
        GenDisk disk = disk(false);
        disk.submit(Bio.flush());
        assertEquals(0, held.size());
        io(disk, Bio.write(0, buf(8), BioFlag.PREFLUSH, BioFlag.FUA), 1001, 1003);
        DiskStats.Snapshot s = disk.stats().snapshot();
        assertEquals(1, s.writeIos());
        assertEquals(2, s.writeTicks());
        assertEquals(0, s.flushIos());
    }

    @Test
    void aFuaWriteOnABioBasedDiskIsOneWrite() {
        // pmem_submit_bio flushes for REQ_FUA itself and accounts the bio once: no flush I/O.
        GenDisk disk = accounted("pmem0", held::add).writeCache(true, false).build();
        now.set(1000);
        Bio write = Bio.write(0, buf(8), BioFlag.FUA);
        disk.submit(write);
        now.set(1002);
        held.removeFirst().endio(BlkStatus.OK);
        now.set(1003);
        held.removeFirst().endio(BlkStatus.OK);
        assertEquals(BlkStatus.OK, write.await());
        assertEquals("       0        0        0        0        1        0        8        3        0        4        3"
                + "        0        0        0        0        0        0", disk.attributes().read("stat"));
    }

    @Test
    void aFuaWriteThatNeedsAPostflushCountsTheFlushOnBlkMq() {
        GenDisk disk = requests("nbd0", held::add).writeCache(true, false).build();
        now.set(1000);
        Bio write = Bio.write(0, buf(8), BioFlag.FUA);
        disk.submit(write);
        now.set(1002);
        held.removeFirst().endio(BlkStatus.OK);               // the write, without FUA
        assertEquals(BioOp.FLUSH, held.peekFirst().op());     // then the flush standing in for FUA
        now.set(1003);
        held.removeFirst().endio(BlkStatus.OK);
        assertEquals(BlkStatus.OK, write.await());
        DiskStats.Snapshot s = disk.stats().snapshot();
        assertEquals(1, s.writeIos());
        assertEquals(3, s.writeTicks());
        assertEquals(1, s.flushIos());
        assertEquals(3, s.flushTicks());
    }

    @Test
    void writesInFlightIncludeDiscards() {
        GenDisk disk = disk(true);
        disk.submit(Bio.discard(0, 4096));
        disk.submit(Bio.write(8, buf(8)));
        disk.submit(Bio.read(16, buf(8)));
        disk.submit(Bio.flush());
        // The empty flush is a write in flight too (bio-based: a REQ_OP_WRITE with REQ_PREFLUSH).
        assertEquals("       1        3", disk.attributes().read("inflight"));
        assertEquals(4, disk.stats().snapshot().inFlight());
        while (!held.isEmpty()) held.removeFirst().endio(BlkStatus.ioerr("failed I/O is counted too"));
        assertEquals("       0        0", disk.attributes().read("inflight"));
        assertEquals(2, disk.stats().snapshot().writeIos());
        assertEquals(0, disk.stats().snapshot().flushIos());
    }

    @Test
    void queueIostatsSwitchesAccountingOff() {
        GenDisk disk = disk(true);
        io(disk, Bio.read(0, buf(8)), 1000, 1001);
        disk.attributes().write("queue/iostats", "0");
        assertEquals("0", disk.attributes().read("queue/iostats"));
        io(disk, Bio.read(0, buf(8)), 1002, 1003);
        assertEquals(1, disk.stats().snapshot().readIos());
        disk.attributes().write("queue/iostats", "1");
        io(disk, Bio.read(0, buf(8)), 1004, 1005);
        assertEquals(2, disk.stats().snapshot().readIos());
        assertThrows(IllegalArgumentException.class, () -> disk.attributes().write("queue/iostats", "maybe"));
        assertThrows(IllegalArgumentException.class, () -> disk.attributes().write("stat", "0"));
    }

    @Test
    void theDriverChoosesWhetherItsBiosCountAsIn61() {
        // brd asks for nothing; pmem heeds queue/iostats, which starts at 0; 6.1's dm accounts itself whatever it says;
        // a driver may also have every bio it lets through counted, whatever it says.
        GenDisk brd = GenDisk.builder("ram0", new DevT(1, 0), 2048, held::add).clock(now::get).build();
        GenDisk pmem = GenDisk.builder("pmem0", new DevT(259, 0), 2048, held::add).clock(now::get).accounting(IoAccounting.IOSTATS, false).build();
        GenDisk[] self = new GenDisk[1];
        GenDisk dm = GenDisk.builder("dm-0", new DevT(254, 0), 2048, bio -> {
            self[0].startIoAcct(bio);
            held.add(bio);
        }).clock(now::get).accounting(IoAccounting.DRIVER, false).build();
        self[0] = dm;
        GenDisk always = GenDisk.builder("vd0", new DevT(252, 0), 2048, held::add).clock(now::get).accounting(IoAccounting.ALWAYS, false).build();
        GenDisk[] disks = {brd, pmem, dm, always};
        for (GenDisk d : disks) {
            assertEquals("0", d.attributes().read("queue/iostats"), d.name());
            io(d, Bio.read(0, buf(8)), 1000, 1001);
            d.attributes().write("queue/iostats", "1");
            io(d, Bio.read(0, buf(8)), 1002, 1003);
        }
        assertEquals(ZERO_STAT, brd.attributes().read("stat"));
        assertEquals("       0        0", brd.attributes().read("inflight"));
        assertEquals(1, pmem.stats().snapshot().readIos());
        assertEquals(2, dm.stats().snapshot().readIos());
        assertEquals(2, always.stats().snapshot().readIos());
        for (GenDisk d : disks) {
            d.attributes().write("queue/iostats", "0");
            io(d, Bio.write(0, buf(8)), 1004, 1005);
        }
        assertEquals(ZERO_STAT, brd.attributes().read("stat"));
        assertEquals(0, pmem.stats().snapshot().writeIos());
        assertEquals(1, dm.stats().snapshot().writeIos());
        assertEquals(1, always.stats().snapshot().writeIos());
    }

    @Test
    void aReadInPlaceCountsAsAReadOnlyWhereBiosCount() {
        InPlaceRead lend = new InPlaceRead() {
            @Override
            public boolean pin(long offset, long bytes, java.util.function.Consumer<MemorySegment> into) {
                into.accept(buf((int) (bytes >> 9)));
                return true;
            }

            @Override
            public void unpin() {}
        };
        GenDisk brd = GenDisk.builder("ram0", new DevT(1, 0), 2048, held::add).clock(now::get).inPlaceRead(lend).build();
        GenDisk nbd = requests("nbd0", held::add).inPlaceRead(lend).build();
        for (GenDisk d : new GenDisk[] {brd, nbd}) assertEquals(true, d.inPlaceRead().pin(4096, 8192, m -> {}));
        assertEquals(ZERO_STAT, brd.attributes().read("stat"));
        assertEquals(1, nbd.stats().snapshot().readIos());
        assertEquals(16, nbd.stats().snapshot().readSectors());
    }

    private static final String ZERO_STAT = "       0        0        0        0        0        0        0        0        0        0        0"
            + "        0        0        0        0        0        0";

    @Test
    void aBioPassedOnToASecondDiskCountsOnBoth() {
        GenDisk lower = disk(true);
        GenDisk upper = accounted("pass0", lower::submit).build();
        io(upper, Bio.read(0, buf(8)), 1000, 1003);
        assertEquals(1, upper.stats().snapshot().readIos());
        assertEquals(3, upper.stats().snapshot().readTicks());
        assertEquals(1, lower.stats().snapshot().readIos());
        assertEquals(3, lower.stats().snapshot().readTicks());
    }

    @Test
    void parseReadsOlderKernelsShorterLines() {
        DiskStats.Snapshot s = DiskStats.Snapshot.parse("1 0 8 7 3 0 32 5 0 17 19\n");
        assertEquals(19, s.timeInQueue());
        assertEquals(0, s.flushIos());
        assertThrows(IllegalArgumentException.class, () -> DiskStats.Snapshot.parse("1 2 3"));
        assertThrows(IllegalArgumentException.class, () -> DiskStats.Snapshot.parse("1 0 8 7 3 0 32 5 0 17 x"));
    }

    @Test
    void countsFromManyThreadsAddUpAndEndedThreadsLeaveNoCells() throws Exception {
        GenDisk disk = accounted("pmem0", bio -> bio.endio(BlkStatus.OK)).build();
        for (int round = 0; round < 4; round++) {
            Thread[] threads = new Thread[25];
            for (int t = 0; t < threads.length; t++) {
                threads[t] = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < 10; i++) disk.submit(Bio.read(i * 8, buf(8)));
                });
            }
            for (Thread t : threads) t.join();
        }
        // The last new thread folded the cells of every thread that had ended before it came.
        Thread.ofPlatform().start(() -> disk.submit(Bio.write(0, buf(8)))).join();
        DiskStats.Snapshot s = disk.stats().snapshot();
        assertEquals(1000, s.readIos());
        assertEquals(8000, s.readSectors());
        assertEquals(1, s.writeIos());
        assertEquals(0, s.inFlight());
        assertEquals(1, disk.stats().cellCount());
    }

    @Test
    void aReusedBioIsCountedOnTheDiskItGoesToNowAndOnTheThreadThatSendsIt() throws Exception {
        GenDisk first = disk(false);
        ArrayDeque<Bio> other = new ArrayDeque<>();
        GenDisk second = accounted("pmem1", other::add).build();
        Bio bio = Bio.read(0, buf(8));
        io(first, bio, 1000, 1001);
        bio.reset(BioOp.READ, 8, bio.data());
        second.submit(bio);
        other.removeFirst().endio(BlkStatus.OK);
        bio.reset(BioOp.WRITE, 16, bio.data());
        Thread t = Thread.ofPlatform().start(() -> second.submit(bio));
        t.join();
        other.removeFirst().endio(BlkStatus.OK);
        assertEquals(1, first.stats().snapshot().readIos());
        assertEquals(0, first.stats().snapshot().writeIos());
        assertEquals(1, second.stats().snapshot().readIos());
        assertEquals(1, second.stats().snapshot().writeIos());
        assertEquals(0, second.stats().snapshot().inFlight(), "started on one thread, ended on another: not in flight");
    }
}
