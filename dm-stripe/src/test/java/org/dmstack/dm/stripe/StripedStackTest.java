package org.dmstack.dm.stripe;

import static org.dmstack.testkit.Bios.pattern;
import static org.dmstack.testkit.Bios.submit;

import org.dmstack.block.BioOp;
import org.dmstack.testkit.RecordingDevice;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;
import org.dmstack.dm.MappedDevice;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** striped in a real stack: DeviceMapper over RAM devices, data checked on the RAM devices' memory. */
class StripedStackTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry);
    private final RecordingDevice ram0 = RecordingDevice.ram(registry, 0, 4096, true);
    private final RecordingDevice ram1 = RecordingDevice.ram(registry, 1, 4096, true);
    private final RecordingDevice ram2 = RecordingDevice.ram(registry, 2, 4096, true);
    private final RecordingDevice[] rams = {ram0, ram1, ram2};

    StripedStackTest() {
        dm.targetTypes().register(new StripedTargetType());
    }

    @AfterEach
    void close() {
        dm.close();
    }

    /** 2 stripes of 16 sectors: chunks 0, 2, 4... on ram0 from 0; chunks 1, 3, 5... on ram1 from 64. */
    private MappedDevice twoStripes() {
        return dm.create("st", "0 1024 striped 2 16 ram0 0 /dev/ram1 64");
    }

    /** Checks that sector {@code first + n} of the striped target holds sector n of {@code data}, on the RAM disk and sector the geometry says. */
    private void assertPlaced(MemorySegment data, long first, int chunk, long[] starts) {
        for (long n = 0; n < data.byteSize() / 512; n++) {
            long sector = first + n;
            long chunkNr = sector / chunk;
            int stripe = (int) (chunkNr % starts.length);
            long onDevice = starts[stripe] + chunkNr / starts.length * chunk + sector % chunk;
            MemorySegment expected = data.asSlice(n * 512, 512);
            assertEquals(-1, rams[stripe].sectors(onDevice, 1).mismatch(expected), "sector " + sector + " on ram" + stripe + " sector " + onDevice);
        }
    }

    @Test
    void aPatternWrittenThroughLandsAtTheExpectedSectorsAndReadsBack() {
        MappedDevice st = twoStripes();
        MemorySegment data = pattern(100, 3); // sectors 10..109: chunks 0 to 6, both stripes

        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.write(10, data)));

        assertPlaced(data, 10, 16, new long[] {0, 64});
        assertEquals(List.of("WRITE 10+6", "WRITE 16+16", "WRITE 32+16", "WRITE 48+14"), ram0.log());
        assertEquals(List.of("WRITE 64+16", "WRITE 80+16", "WRITE 96+16"), ram1.log());
        MemorySegment back = MemorySegment.ofArray(new byte[100 * 512]);
        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.read(10, back)));
        assertEquals(-1, back.mismatch(data));
    }

    @Test
    void aChunkThatIsNotAPowerOfTwo() {
        // The striped line starts at sector 40 of the mapped device: chunks count from there.
        MappedDevice st = dm.create("st", "0 40 zero\n40 1440 striped 3 24 ram0 8 ram1 0 ram2 800");
        MemorySegment data = pattern(1440, 9);

        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.write(40, data)));

        assertPlaced(data, 0, 24, new long[] {8, 0, 800});
        MemorySegment back = MemorySegment.ofArray(new byte[1440 * 512]);
        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.read(40, back)));
        assertEquals(-1, back.mismatch(data));
    }

    @Test
    void twoStripesOnOneDevice() {
        MappedDevice st = dm.create("st", "0 1024 striped 2 16 ram0 0 ram0 2048");
        MemorySegment data = pattern(1024, 4);

        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.write(0, data)));
        for (long chunk = 0; chunk < 64; chunk++) {
            long onRam0 = (chunk % 2 == 0 ? 0 : 2048) + chunk / 2 * 16;
            assertEquals(-1, ram0.sectors(onRam0, 16).mismatch(data.asSlice(chunk * 16 * 512, 16 * 512)), "chunk " + chunk);
        }
        assertEquals(List.of(new DevT(1, 0)), dm.deps("st"), "one device, counted once");

        // Linux marks every stripe on the device that failed.
        ram0.failIo(true);
        assertEquals(BlkStatus.Code.IOERR, submit(st.disk(), Bio.read(0, MemorySegment.ofArray(new byte[512]))).code());
        assertEquals("0 1024 striped 2 1:0 1:0 1 DD\n", dm.status("st"));
    }

    @Test
    void concurrentWritersWithCompletionsOnOtherThreads() throws Exception {
        ExecutorService disks = Executors.newFixedThreadPool(3);
        ExecutorService writers = Executors.newFixedThreadPool(4);
        try {
            for (RecordingDevice ram : rams) ram.async(disks);
            MappedDevice st = dm.create("st", "0 3000 striped 3 25 ram0 0 ram1 0 ram2 0");
            MemorySegment data = pattern(3000, 11);
            List<Future<BlkStatus>> done = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                long from = w * 750L;
                done.add(writers.submit(() -> {
                    BlkStatus status = BlkStatus.OK;
                    for (long s = from; s < from + 750 && status.isOk(); s += 37) {
                        long n = Math.min(37, from + 750 - s);
                        status = submit(st.disk(), Bio.write(s, data.asSlice(s * 512, n * 512)));
                    }
                    return status;
                }));
            }
            for (Future<BlkStatus> f : done) assertEquals(BlkStatus.OK, f.get());
            assertPlaced(data, 0, 25, new long[] {0, 0, 0});
        } finally {
            writers.shutdownNow();
            disks.shutdownNow();
        }
    }

    @Test
    void aFlushReachesEveryStripe() {
        MappedDevice st = dm.create("st", "0 1536 striped 3 16 ram0 0 ram1 0 ram2 0");

        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.flush()));
        assertEquals(List.of(1L, 1L, 1L), List.of(ram0.count(BioOp.FLUSH), ram1.count(BioOp.FLUSH), ram2.count(BioOp.FLUSH)));

        // A write with PREFLUSH flushes every stripe first, then writes only where its data goes.
        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.write(0, pattern(8, 1), BioFlag.PREFLUSH)));
        assertEquals(List.of(2L, 2L, 2L), List.of(ram0.count(BioOp.FLUSH), ram1.count(BioOp.FLUSH), ram2.count(BioOp.FLUSH)));
        assertEquals(List.of("WRITE 0+8"), ram0.log());
        assertEquals(List.of(), ram1.log());
    }

    @Test
    void aDiscardReachesEachStripeAsOneRangeAndOnlyStripesThatHoldPartOfIt() {
        MappedDevice st = twoStripes();
        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.write(0, pattern(64, 5))));
        ram0.clear();
        ram1.clear();

        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.discard(8, 48 * 512)));
        assertEquals(List.of("DISCARD 8+24"), ram0.log());
        assertEquals(List.of("DISCARD 64+24"), ram1.log());
        assertEquals(-1, ram0.sectors(8, 24).mismatch(MemorySegment.ofArray(new byte[24 * 512])));

        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.writeZeroes(50, 4 * 512))); // inside chunk 3, on ram1
        assertEquals(List.of("DISCARD 8+24"), ram0.log());
        assertEquals(List.of("DISCARD 64+24", "WRITE_ZEROES 82+4"), ram1.log());
    }

    @Test
    void statusTurnsDAfterAnIoError() {
        MappedDevice st = twoStripes();
        assertEquals("0 1024 striped 2 1:0 1:1 1 AA\n", dm.status("st"));

        ram1.failIo(true);
        assertEquals(BlkStatus.Code.IOERR, submit(st.disk(), Bio.write(16, pattern(8, 2))).code());
        assertEquals(BlkStatus.OK, submit(st.disk(), Bio.write(0, pattern(8, 2))));

        assertEquals("0 1024 striped 2 1:0 1:1 1 AD\n", dm.status("st"));
    }

    @Test
    void eachOfAStripesFirstFourteenErrorsRaisesATableEvent() {
        // dm-stripe.c 6.1, stripe_end_io: "if (atomic_read(&(sc->stripe[i].error_count)) < DM_IO_ERROR_THRESHOLD)
        // schedule_work(&sc->trigger_event)", and trigger_event calls dm_table_event, which raises dmsetup info's Event number.
        twoStripes();
        assertEquals(0, dm.info("st").eventNumber());
        ram1.failIo(true);
        for (int n = 0; n < 20; n++) assertEquals(BlkStatus.Code.IOERR, submit(dm.get("st").disk(), Bio.write(16, pattern(8, 2))).code());
        assertEquals(14, dm.info("st").eventNumber());
    }

    @Test
    void tableAndLimitsAsLinuxShowsThem() {
        MappedDevice st = twoStripes();
        assertEquals("0 1024 striped 2 16 1:0 0 1:1 64\n", dm.table("st"));
        assertEquals("8192", st.disk().attributes().read("queue/minimum_io_size"));
        assertEquals("16384", st.disk().attributes().read("queue/optimal_io_size"));
    }

    @Test
    void badTablesCreateNothing() {
        List<BlockDevice> devices = registry.devices();
        assertRefused("0 1024 striped 2", "line 1: striped: Not enough arguments");
        assertRefused("0 1024 striped 0 16 ram0 0", "line 1: striped: Invalid stripe count");
        assertRefused("0 1024 striped 2 0 ram0 0 ram1 0", "line 1: striped: Invalid chunk_size");
        assertRefused("0 1023 striped 2 16 ram0 0 ram1 0", "line 1: striped: Target length not divisible by number of stripes");
        assertRefused("0 1000 striped 2 16 ram0 0 ram1 0", "line 1: striped: Target length not divisible by chunk size");
        assertRefused("0 1536 striped 3 16 ram0 0 ram1 0", "line 1: striped: Not enough destinations specified");
        assertRefused("0 1024 striped 2 16 ram0 0 ram1 x", "line 1: striped: Couldn't parse stripe destination");
        assertRefused("0 1024 zero\n1024 1024 striped 2 16 ram0 0 ram9 0", "line 2: striped: Couldn't parse stripe destination: ram9: No such device");
        assertRefused("0 1024 striped 2 16 ram0 0 ram1 3800", "line 1: striped: ram1 too small for target: start=3800, len=512, dev_size=4096");
        assertEquals(List.of(), dm.list());
        assertEquals(devices, registry.devices());
        for (RecordingDevice ram : rams) assertEquals(Set.of(), registry.holders(ram.device().devt()));
    }

    private void assertRefused(String table, String message) {
        assertEquals(message, assertThrows(DmException.class, () -> dm.create("st", table)).getMessage());
    }

    @Test
    void daxReadsAndWritesCrossChunksToTheRightDevicesAndPages() {
        // 3 stripes of 24 sectors (3 pages per chunk).
        MappedDevice st = dm.create("st", "0 1440 striped 3 24 ram0 8 ram1 0 ram2 800");
        DaxDevice dax = st.disk().dax();
        assertNotNull(dax);
        byte[] data = new byte[10 * 4096];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7 + 3);
        long pos = 2 * 4096L; // pages 2..11: chunks 0 to 3

        assertEquals(data.length, FsDax.write(dax, pos, IovIter.iovec(data)));

        assertPlaced(MemorySegment.ofArray(data), pos / 512, 24, new long[] {8, 0, 800});
        byte[] back = new byte[data.length];
        assertEquals(data.length, FsDax.read(dax, pos, IovIter.iovec(back)));
        assertArrayEquals(data, back);
        assertEquals(3, dax.directAccess(3, 100).pages()); // clamped to the end of chunk 1
    }

    @Test
    void aTableWithADeviceWithoutDaxHasNoDax() {
        RecordingDevice.ram(registry, 3, 4096, false);
        MappedDevice st = dm.create("st", "0 1024 striped 2 16 ram0 0 ram3 0");
        assertNull(st.disk().dax());
        assertEquals("0", st.disk().attributes().read("queue/dax"));
    }

    /**
     * The queue attributes Linux 6.1 shows for striped tables over brd (physical block size 4096,
     * default max_sectors 255, no discard, no write-zeroes): dm_calculate_queue_limits stacks
     * stripe_io_hints into the table with blk_stack_limits, and dm_table_set_restrictions leaves
     * discard and write-zeroes off because the devices have none (dm_table_supports_discards,
     * dm_table_supports_write_zeroes). Sizes as blk-sysfs.c prints them.
     */
    @Test
    void sysfsOfStripedTablesOverRamDisksIsWhatLinuxShows() {
        BlockDeviceRegistry brds = new BlockDeviceRegistry();
        for (int n = 0; n < 3; n++) {
            brds.add(RecordingDevice.builder("ram" + n, DevT.RAMDISK_MAJOR, n).sectors(4096).writeCache(true).fua(false).discard(false).build().device());
        }
        try (DeviceMapper dm = new DeviceMapper(brds)) {
            dm.targetTypes().register(new StripedTargetType());
            sysfsOverBrd(dm);
        }
    }

    private static void sysfsOverBrd(DeviceMapper dm) {
        BlockDevice one = dm.create("one", "0 64 striped 2 1 ram0 0 ram1 0").disk();
        assertEquals("4096", one.attributes().read("queue/minimum_io_size"));
        assertEquals("0", one.attributes().read("queue/optimal_io_size"));
        assertEquals("-1", one.attributes().read("alignment_offset"));
        BlockDevice twelve = dm.create("twelve", "0 96 striped 2 12 ram0 64 ram1 64").disk();
        assertEquals("4096", twelve.attributes().read("queue/minimum_io_size"));
        assertEquals("12288", twelve.attributes().read("queue/optimal_io_size"));
        BlockDevice three = dm.create("three", "0 36 striped 3 3 ram0 128 ram1 128 ram2 128").disk();
        assertEquals("0", three.attributes().read("queue/optimal_io_size"));

        BlockDevice st = dm.create("st", "0 1024 striped 2 16 ram0 0 /dev/ram1 64").disk();
        String[][] expected = {
            {"alignment_offset", "0"},
            {"discard_alignment", "0"},
            {"queue/logical_block_size", "512"},
            {"queue/physical_block_size", "4096"},
            {"queue/minimum_io_size", "8192"},
            {"queue/optimal_io_size", "16384"},
            {"queue/rotational", "0"},
            {"queue/chunk_sectors", "0"},
            {"queue/discard_granularity", "0"},
            {"queue/discard_max_bytes", "0"},
            {"queue/discard_max_hw_bytes", "0"},
            {"queue/write_zeroes_max_bytes", "0"},
            {"queue/max_sectors_kb", "127"},
            {"queue/max_hw_sectors_kb", "127"},
            {"queue/dax", "1"},
            // alloc_dev: minors 1, GENHD_FL_NO_PART; the segment limits stacked from brd's defaults.
            {"range", "1"},
            {"ext_range", "1"},
            {"capability", "4"},
            {"queue/max_segments", "128"},
            {"queue/max_discard_segments", "1"},
            {"queue/max_segment_size", "65536"},
            {"queue/scheduler", "none"},
            {"queue/read_ahead_kb", "128"},
        };
        for (String[] e : expected) assertEquals(e[1], st.attributes().read(e[0]), e[0]);
        // disk_update_readahead: twice io_opt (256 KiB for 2 stripes of 128 KiB) when that is more than 128 KiB.
        BlockDevice wide = dm.create("wide", "0 2048 striped 2 256 ram0 1024 ram1 1024").disk();
        assertEquals("262144", wide.attributes().read("queue/optimal_io_size"));
        assertEquals("512", wide.attributes().read("queue/read_ahead_kb"));
    }
}
