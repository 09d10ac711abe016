package org.dmstack.dm.linear;

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
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;
import org.dmstack.dm.MappedDevice;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** linear in a real stack: DeviceMapper over RAM devices, data checked on the RAM devices' memory. */
class LinearStackTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry);
    private final RecordingDevice ram0 = RecordingDevice.ram(registry, 0, 4096, true);
    private final RecordingDevice ram1 = RecordingDevice.ram(registry, 1, 4096, true);

    LinearStackTest() {
        dm.targetTypes().register(new LinearTargetType());
    }

    @AfterEach
    void close() {
        dm.close();
    }

    /** Two linear lines: dm sectors 0..1023 are ram0 2048..3071, 1024..2047 are ram1 0..1023. */
    private MappedDevice twoLines() {
        return dm.create("lv", "0 1024 linear ram0 2048\n1024 1024 linear /dev/ram1 0");
    }

    @Test
    void aWriteAcrossBothLinesLandsAtTheExpectedSectors() {
        MappedDevice lv = twoLines();
        MemorySegment data = pattern(100, 7); // dm sectors 1000..1099

        assertEquals(BlkStatus.OK, submit(lv.disk(), Bio.write(1000, data)));

        assertEquals(-1, ram0.sectors(3048, 24).mismatch(data.asSlice(0, 24 * 512)));
        assertEquals(-1, ram1.sectors(0, 76).mismatch(data.asSlice(24 * 512)));
        assertEquals(List.of("WRITE 3048+24"), ram0.log());
        assertEquals(List.of("WRITE 0+76"), ram1.log());

        MemorySegment back = MemorySegment.ofArray(new byte[100 * 512]);
        assertEquals(BlkStatus.OK, submit(lv.disk(), Bio.read(1000, back)));
        assertEquals(-1, back.mismatch(data));
    }

    @Test
    void discardsAndWriteZeroesAreRemappedLikeWrites() {
        MappedDevice lv = twoLines();
        assertEquals(BlkStatus.OK, submit(lv.disk(), Bio.discard(1000, 100 * 512)));
        assertEquals(BlkStatus.OK, submit(lv.disk(), Bio.writeZeroes(8, 16 * 512)));
        assertEquals(List.of("DISCARD 3048+24", "WRITE_ZEROES 2056+16"), ram0.log());
        assertEquals(List.of("DISCARD 0+76"), ram1.log());
    }

    @Test
    void aFlushReachesEveryDevice() {
        MappedDevice lv = twoLines();
        assertEquals(BlkStatus.OK, submit(lv.disk(), Bio.flush()));
        assertEquals(1, ram0.count(BioOp.FLUSH));
        assertEquals(1, ram1.count(BioOp.FLUSH));
    }

    @Test
    void tableStatusAndDeps() {
        twoLines();
        assertEquals("0 1024 linear 1:0 2048\n1024 1024 linear 1:1 0\n", dm.table("lv"));
        assertEquals("0 1024 linear \n1024 1024 linear \n", dm.status("lv"));
        assertEquals(List.of(new DevT(1, 1), new DevT(1, 0)), dm.deps("lv"));
    }

    @Test
    void badTablesCreateNothing() {
        List<BlockDevice> devices = registry.devices();
        assertRefused("0 1024 linear ram0", "line 1: linear: Invalid argument count");
        assertRefused("0 1024 linear ram0 -8", "line 1: linear: Invalid device sector");
        assertRefused("0 1024 linear ram0 0\n1024 8 linear ram7 0", "line 2: linear: Device lookup failed: ram7: No such device");
        assertRefused("0 1024 linear ram0 3584", "line 1: linear: ram0 too small for target: start=3584, len=1024, dev_size=4096");
        assertEquals(List.of(), dm.list());
        assertEquals(devices, registry.devices());
        assertEquals(Set.of(), registry.holders(ram0.device().devt()));
    }

    /**
     * linear_ctr reads the offset with "%llu" (TargetArgs), so 18446744073709551615 is 2^64-1, and
     * device_area_is_invalid refuses it comparing and printing sector_t unsigned: what Linux 6.1
     * says over an 8 MiB ram0.
     */
    @Test
    void anOffsetOfTwoToTheSixtyFourMinusOneIsTooSmallForTheDevice() {
        BlockDeviceRegistry eight = new BlockDeviceRegistry();
        RecordingDevice.ram(eight, 0, 16384, false);
        try (DeviceMapper dm8 = new DeviceMapper(eight)) {
            dm8.targetTypes().register(new LinearTargetType());
            assertEquals("line 1: linear: ram0 too small for target: start=18446744073709551615, len=100, dev_size=16384",
                    assertThrows(DmException.class, () -> dm8.create("lv", "0 100 linear ram0 18446744073709551615")).getMessage());
            assertEquals("line 1: linear: ram0 too small for target: start=16300, len=100, dev_size=16384",
                    assertThrows(DmException.class, () -> dm8.create("lv", "0 100 linear ram0 16300")).getMessage());
            dm8.create("lv", "0 100 linear ram0 16284");
            assertEquals("0 100 linear 1:0 16284\n", dm8.table("lv"), "the last 100 sectors fit");
        }
    }

    private void assertRefused(String table, String message) {
        assertEquals(message, assertThrows(DmException.class, () -> dm.create("lv", table)).getMessage());
    }

    @Test
    void daxReadsAndWritesGoToTheRightDeviceAndPage() {
        MappedDevice lv = twoLines();
        DaxDevice dax = lv.disk().dax();
        assertNotNull(dax);
        byte[] data = new byte[3 * 4096];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 13 + 1);
        long pos = (1024 - 8) * 512L; // the last page of line 1, then two pages of line 2

        assertEquals(data.length, FsDax.write(dax, pos, IovIter.iovec(data)));

        assertArrayEquals(Arrays.copyOf(data, 4096), ram0.sectors(3064, 8).toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(Arrays.copyOfRange(data, 4096, data.length), ram1.sectors(0, 16).toArray(ValueLayout.JAVA_BYTE));
        byte[] back = new byte[data.length];
        assertEquals(data.length, FsDax.read(dax, pos, IovIter.iovec(back)));
        assertArrayEquals(data, back);
    }

    @Test
    void aTableOverADeviceWithoutDaxHasNoDax() {
        RecordingDevice ram2 = RecordingDevice.ram(registry, 2, 4096, false);
        String plain = "0 1024 linear ram0 0\n1024 1024 linear ram2 0";
        // 6.1's table_load keeps a device's first type (is_valid_type): a DAX device refuses a plain table ...
        twoLines();
        DmException refused = assertThrows(DmException.class, () -> dm.load("lv", plain));
        assertEquals("reload ioctl on lv failed: Invalid argument (can't change device type after initial table load: "
                + "dm-0's first table was DAX-capable, this one is not)", refused.getMessage());
        dm.remove("lv");
        // ... and a bio-based one may take a DAX table and give it up again.
        MappedDevice lv = dm.create("lv", plain);
        assertNull(lv.disk().dax());
        dm.load("lv", "0 1024 linear ram0 2048\n1024 1024 linear /dev/ram1 0");
        dm.resume("lv");
        DaxDevice dax = lv.disk().dax();
        assertNotNull(dax);

        dm.load("lv", plain);
        dm.resume("lv");

        assertNull(lv.disk().dax());
        DaxException e = assertThrows(DaxException.class, () -> dax.directAccess(0, 1));
        assertEquals(DaxException.Errno.EOPNOTSUPP, e.errno());
        assertEquals(List.of(), ram2.log());
    }
}
