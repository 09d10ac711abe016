package org.dmstack.dm.linear;

import static org.dmstack.testkit.MockDevices.daxDriver;
import static org.dmstack.testkit.MockDevices.device;
import static org.dmstack.testkit.MockDevices.line;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.ArgumentMatchers.same;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/**
 * The linear target against mocked devices: how to unit-test a target without any driver. A
 * {@link TargetContext} from testkit's {@code MockDevices.line} stands for the table line and hands
 * out devices mocked with {@code MockDevices.device}.
 */
class LinearTargetTypeTest {
    private final BlockDevice ram0 = device("ram0", new DevT(1, 0), 4096);
    private final LinearTargetType type = new LinearTargetType();

    @Test
    void mapsEachSectorToTheSameOffsetOnTheDevice() throws TargetException {
        Target linear = type.construct(line(1000, 2048, "ram0 100", ram0));
        Bio read = Bio.read(1010, MemorySegment.ofArray(new byte[4096]));

        assertEquals(MapResult.REMAPPED, linear.map(read));
        assertSame(ram0, read.device());
        assertEquals(110, read.sector());
    }

    @Test
    void anEmptyFlushGoesToTheDevice() throws TargetException {
        Target linear = type.construct(line(0, 2048, "1:0 0", ram0));
        Bio flush = Bio.flush();

        assertEquals(MapResult.REMAPPED, linear.map(flush));
        assertSame(ram0, flush.device());
        assertEquals(1, linear.numFlushBios());
    }

    @Test
    void tablePrintsTheDeviceNumberAndStatusIsEmpty() throws TargetException {
        Target linear = type.construct(line(0, 2048, "ram0 2048", ram0));

        assertEquals("1:0 2048", linear.status(StatusType.TABLE));
        assertEquals("", linear.status(StatusType.INFO));
    }

    @Test
    void usesTheAreaFromOffsetForTheTargetLength() throws TargetException {
        Target linear = type.construct(line(512, 1024, "ram0 8", ram0));
        StringBuilder visited = new StringBuilder();
        linear.iterateDevices((device, start, length) -> visited.append(device.name()).append(' ').append(start).append(' ').append(length));
        assertEquals("ram0 8 1024", visited.toString());
    }

    @Test
    void refusesWhatLinuxRefuses() {
        assertEquals("Invalid argument count", refused("ram0"));
        assertEquals("Invalid argument count", refused("ram0 0 0"));
        for (String offset : List.of("-1", "+1", "12x", "0x10")) {
            assertEquals("Invalid device sector", refused("ram0 " + offset), offset);
        }
        assertEquals("Device lookup failed: ram9: No such device", refused("ram9 0"));
    }

    /**
     * linear_ctr reads the offset with sscanf("%llu%c"): any digits, held as an unsigned 64-bit
     * sector and wrapped past 2^64 as simple_strtoull wraps; the device-size check refuses it later.
     */
    @Test
    void readsTheOffsetAsTheKernelsScannerDoes() throws TargetException {
        assertEquals("1:0 18446744073709551615", type.construct(line(0, 8, "ram0 18446744073709551615", ram0)).status(StatusType.TABLE));
        // 99999999999999999999 mod 2^64
        assertEquals("1:0 7766279631452241919", type.construct(line(0, 8, "ram0 99999999999999999999", ram0)).status(StatusType.TABLE));
    }

    private String refused(String args) {
        return assertThrows(TargetException.class, () -> type.construct(line(0, 2048, args, ram0))).getMessage();
    }

    // ---- DAX: a real DaxDevice over mocked dax_operations ----

    @Test
    void daxCallsGoToTheDevicePageAtTheOffset() throws TargetException {
        MemorySegment memory = MemorySegment.ofArray(new byte[4096]);
        DaxOperations ops = daxDriver(memory, 7, 1);
        DaxDevice dax = new DaxDevice("ram0", ops, () -> 512, true);
        when(ram0.dax()).thenReturn(dax);
        // Mapped-device sectors 64.. are ram0 sectors 16.., so mapped page 8 is ram0 page 2.
        Target linear = type.construct(line(64, 256, "ram0 16", ram0));
        IovIter iter = IovIter.kvec(MemorySegment.ofArray(new byte[4096]));

        DaxMapping map = new DaxMapping();
        linear.directAccess(8, 1, map);
        verify(ops).directAccess(eq(2L), eq(1L), same(map));
        assertSame(memory, map.memory());
        assertEquals(7, map.pfn());
        // Copies and flushes go to the device that owns the memory, at its page.
        dax.copyFromIter(map, 0, 4096, iter);
        verify(ops).copyFromIter(eq(2L), eq(memory), eq(0L), eq(4096L), any());
        dax.copyToIter(map, 0, 4096, iter);
        verify(ops).copyToIter(eq(2L), eq(memory), eq(0L), eq(4096L), any());
        dax.flush(map, 0, 4096);
        verify(ops).flush(2, memory, 0, 4096);
        assertTrue(linear.supportsDax());
    }

    @Test
    void daxMappingsAndSoCopiesStopWhereCoreClampsThem() throws TargetException {
        DaxDevice dax = new DaxDevice("ram0", daxDriver(MemorySegment.ofArray(new byte[8 * 4096]), 7, 8), () -> 512, true);
        when(ram0.dax()).thenReturn(dax);
        Target linear = type.construct(line(0, 16, "ram0 0", ram0)); // two pages: core asks page 1 for one page at most

        DaxMapping map = new DaxMapping();
        linear.directAccess(1, 1, map);
        assertEquals(1, map.pages(), "no more than asked for, though the device had eight");
        assertEquals("ram0: 8192 bytes at 0 do not fit the 4096 mapped at page 1",
                assertThrows(DaxException.class, () -> dax.copyFromIter(map, 0, 8192, IovIter.kvec(MemorySegment.ofArray(new byte[8192])))).getMessage());
    }

    @Test
    void daxFailsCleanlyOnAnUnalignedOffsetOrADeviceWithoutDax() throws TargetException {
        when(ram0.dax()).thenReturn(new DaxDevice("ram0", mock(DaxOperations.class), () -> 512, true));
        Target unaligned = type.construct(line(0, 256, "ram0 1", ram0));
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> unaligned.directAccess(0, 1, new DaxMapping())).errno());

        BlockDevice ram1 = device("ram1", new DevT(1, 1), 4096); // dax() is null
        Target noDax = type.construct(line(0, 256, "ram1 0", ram1));
        assertEquals(DaxException.Errno.EOPNOTSUPP, assertThrows(DaxException.class, () -> noDax.directAccess(0, 1, new DaxMapping())).errno());
    }

    @Test
    void daxMapsPagesWhereTheTargetAndItsOffsetAreOffAPageAlike() throws TargetException {
        DaxOperations ops = mock(DaxOperations.class);
        when(ram0.dax()).thenReturn(new DaxDevice("ram0", ops, () -> 512, true));
        // Mapped-device sectors 4.. are ram0 sectors 12..: mapped page 1 (sector 8) is ram0 sector 16, page 2.
        Target linear = type.construct(line(4, 256, "ram0 12", ram0));
        DaxMapping map = new DaxMapping();
        linear.directAccess(1, 3, map);
        verify(ops).directAccess(eq(2L), eq(3L), same(map));

        Target unaligned = type.construct(line(4, 256, "ram0 16", ram0));
        assertEquals("ram0: sector 20 is not page aligned for DAX",
                assertThrows(DaxException.class, () -> unaligned.directAccess(1, 1, new DaxMapping())).getMessage());
    }
}
