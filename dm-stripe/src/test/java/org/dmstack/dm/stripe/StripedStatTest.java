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
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.MappedDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * /sys/block/X/stat through a striped device: the bio counted once on dm-0 as submitted, each
 * clone on the disk below (disks that count, as pmem with queue/iostats set). Every bio on the disks below takes exactly 1 ms of a clock the disks
 * themselves move, so every tick is known.
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
            }).clock(now::get).writeCache(true, false).accounting(IoAccounting.IOSTATS, true).build());
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

        run(dm0, Bio.write(0, sectors(64)));                          // 4 chunks: 2 clones on each disk, 1000..1004
        run(dm0, Bio.read(16, sectors(8)));                           // chunk 1: ram1, 1004..1005
        run(dm0, Bio.discard(0, 64 * 512));                           // one discard of 32 sectors per stripe, 1005..1007
        run(dm0, Bio.flush());                                        // a flush per stripe, 1007..1009
        run(dm0, Bio.write(32, sectors(16), BioFlag.PREFLUSH));       // flushes 1009..1011, then chunk 2 on ram0, ..1012
        assertEquals(BlkStatus.Code.INVAL, run(dm0, Bio.read(1024, sectors(8))).code()); // refused, not counted

        assertEquals("       1        0        8        1        2        0       80        7        0       11       15"
                + "        1        0       64        2        2        5", stat("dm-0"));
        assertEquals("       0        0        0        0        3        0       48        3        0        7        6"
                + "        1        0       32        1        2        2", stat("ram0"));
        assertEquals("       1        0        8        1        2        0       32        2        0        7        6"
                + "        1        0       32        1        2        2", stat("ram1"));
        for (String name : new String[] {"dm-0", "ram0", "ram1"}) assertEquals("       0        0", registry.lookup(name).attributes().read("inflight"));
    }
}
