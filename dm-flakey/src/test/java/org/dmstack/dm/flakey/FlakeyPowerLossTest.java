package org.dmstack.dm.flakey;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.MappedDevice;
import org.dmstack.dm.linear.LinearTargetType;
import org.dmstack.testkit.Bios;
import org.dmstack.testkit.RecordingDevice;
import org.junit.jupiter.api.Test;

/** The README's power-loss test, with a small append-only log for the storage engine. */
class FlakeyPowerLossTest {
    /** A log that appends one-sector records, each made durable (FUA) before it counts. */
    private static final class Log {
        private final BlockDevice disk;
        private long next;

        Log(BlockDevice disk) {
            this.disk = disk;
        }

        BlkStatus append(int value) {
            return Bios.submit(disk, Bio.write(next++, Bios.filled(1, value), BioFlag.FUA));
        }

        /** Recovery: the records up to the first empty sector. */
        int recover() {
            int n = 0;
            MemorySegment sector = Bios.filled(1, 0);
            while (Bios.submit(disk, Bio.read(n, sector)).isOk() && sector.get(ValueLayout.JAVA_BYTE, 0) != 0) n++;
            return n;
        }
    }

    @Test
    void writesAcknowledgedWhileDownAreGoneAfterPowerComesBack() {
        RecordingDevice ram0 = RecordingDevice.builder("ram0", 1, 0).sectors(131072).writeCache(true).build();
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        registry.add(ram0.device());
        AtomicLong nanos = new AtomicLong();
        try (DeviceMapper dm = new DeviceMapper(registry)) {
            dm.targetTypes().register(new FlakeyTargetType(nanos::get));
            dm.targetTypes().register(new LinearTargetType());
            MappedDevice md = dm.create("flaky", "0 131072 flakey ram0 0 60 60 1 drop_writes");

            Log log = new Log(md.disk());
            assertEquals(BlkStatus.OK, log.append(1));
            assertEquals(BlkStatus.OK, log.append(2));
            nanos.addAndGet(TimeUnit.SECONDS.toNanos(60));
            assertEquals(BlkStatus.OK, log.append(3), "acknowledged while down");
            assertEquals(BlkStatus.OK, Bios.submit(md.disk(), Bio.flush()));

            dm.load("flaky", "0 131072 linear ram0 0");
            dm.suspend("flaky");
            dm.resume("flaky");
            assertEquals(2, new Log(md.disk()).recover(), "the third record never reached the disk");
            assertArrayEquals(Bios.filled(1, 2).toArray(ValueLayout.JAVA_BYTE), ram0.read(1, 1));
        }
    }
}
