package org.dmstack.dm.stripe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.IoAccounting;
import org.dmstack.block.QueueLimits;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.MappedDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * /sys/block/X/stat through a striped device, as Linux 6.1 counts it: on dm-0 each dm_io (a bio
 * split at each chunk's end is one per chunk: dm_split_and_process_bio, setup_split_accounting;
 * an empty flush, and the flush before a PREFLUSH write's data, a write of 0 sectors: dm_io_acct),
 * on the disks below each clone (disks that count, as pmem with queue/iostats set, bio-based: an
 * empty flush is a write there too). Every bio on the disks below takes exactly 1 ms of a clock
 * the disks themselves move, so every tick is known.
 */
class StripedStatTest {
    private final AtomicLong now = new AtomicLong(1000);
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry, now::get);

    StripedStatTest() {
        for (int i = 0; i < 2; i++) {
            registry.add(GenDisk.builder("ram" + i, new DevT(1, i), 4096, bio -> {
                now.incrementAndGet();
                bio.endio(BlkStatus.OK);
            }).clock(now::get).writeCache(true, false).accounting(IoAccounting.IOSTATS, true)
                    .limits(QueueLimits.of(512, 4096).setDiscard(QueueLimits.UNLIMITED, 4096)).build()); // discards reach the disks

        }
        dm.targetTypes().register(new StripedTargetType());
    }

    @AfterEach
    void close() {
        dm.close();
    }

    private static MemorySegment sectors(int n) {
        return MemorySegment.ofArray(new byte[n * 512]);
    }

    private String stat(String name) {
        return registry.lookup(name).attributes().read("stat");
    }

    private static BlkStatus run(BlockDevice dev, Bio bio) {
        dev.submit(bio);
        return bio.await();
    }

    @Test
    void everyFieldOnTheMappedDiskAndTheDisksBelow() {
        MappedDevice st = dm.create("st", "0 1024 striped 2 16 ram0 0 ram1 64");
        BlockDevice dm0 = st.disk();

        run(dm0, Bio.write(0, sectors(64)));                          // 4 chunks, 4 dm_ios: 2 clones on each disk, 1000..1004
        run(dm0, Bio.read(16, sectors(8)));                           // chunk 1: ram1, 1004..1005
        run(dm0, Bio.discard(0, 64 * 512));                           // one dm_io, a discard of 32 sectors per stripe, 1005..1007
        run(dm0, Bio.flush());                                        // one dm_io (a write of 0 sectors), a flush per stripe, 1007..1009
        run(dm0, Bio.write(32, sectors(16), BioFlag.PREFLUSH));       // the flush's dm_io 1009..1011, then chunk 2 on ram0, ..1012
        assertEquals(BlkStatus.Code.IOERR, run(dm0, Bio.read(1024, sectors(8))).code()); // bio_check_eod: refused, not counted

        // dm-0: writes 4 + 1 + 1 + 1, ticks 4 + 2 + 2 + 1; io_ticks 1 for the first start (bd_stamp
        // starts at 0), then each dm_io's time, as the others start where one ended: 1 + 4 + 1 + 2 + 2 + 2 + 1; no flush field.
        assertEquals("       1        0        8        1        7        0       80        9        0       13       12"
                + "        1        0       64        2        0        0", stat("dm-0"));
        assertEquals("       0        0        0        0        5        0       48        5        0       12        6"
                + "        1        0       32        1        0        0", stat("ram0"));
        assertEquals("       1        0        8        1        4        0       32        4        0       11        6"
                + "        1        0       32        1        0        0", stat("ram1"));
        for (String name : new String[] {"dm-0", "ram0", "ram1"}) assertEquals("       0        0", registry.lookup(name).attributes().read("inflight"));
    }
}
