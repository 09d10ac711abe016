package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.OptionalLong;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;

/** The argument helpers read as dm-table.c's dm_read_arg family and the kernel's scanners do. */
class TargetArgsTest {
    private final BlockDevice ram0 = Mockito.mock(BlockDevice.class);

    private TargetArgs args(String line) {
        List<String> words = line.isEmpty() ? List.of() : List.of(line.split(" "));
        return TargetContext.of("md", new TableLine(1, 0, 8, "t", words), path -> {
            if (path.equals("ram0")) return ram0;
            throw new TargetException(path + ": No such device");
        }).argSet();
    }

    private static String error(ThrowingRunnable r) {
        return assertThrows(TargetException.class, r::run).getMessage();
    }

    interface ThrowingRunnable {
        void run() throws TargetException;
    }

    /** dm_shift_arg takes arguments front to back and gives NULL past the end. */
    @Test
    void shiftsFrontToBack() {
        TargetArgs as = args("a b c");
        assertEquals(3, as.remaining());
        assertEquals("a", as.shift());
        assertEquals("b", as.shift());
        assertEquals(1, as.remaining());
        assertEquals("c", as.shift());
        assertNull(as.shift());
        assertEquals(0, as.remaining());
    }

    /** validate_next_arg: "%u%c", then min and max; a group's count may not exceed what follows. */
    @Test
    void readsCountsAndGroupsAsDmReadArg() throws TargetException {
        assertEquals(2, args("2").read(1, 3, "Invalid count"));
        for (String bad : List.of("0", "4", "+2", "2x", "-1", "")) {
            assertEquals("Invalid count", error(() -> args(bad).read(1, 3, "Invalid count")), bad);
        }
        TargetArgs features = args("2 drop_writes error_writes");
        assertEquals(2, features.group(0, 5, "Invalid number of feature args"));
        assertEquals("drop_writes", features.shift());
        assertEquals("Invalid number of feature args", error(() -> args("3 a b").group(0, 5, "Invalid number of feature args")));
    }

    /** vsscanf with simple_strntoull: digits only, no sign, nothing after; wraps past 2^64 (and %u past 2^32). */
    @Test
    void scansNumbersAsTheKernelsSscanf() {
        assertEquals(OptionalLong.of(-1L), TargetArgs.scanU64("18446744073709551615"));
        assertEquals(OptionalLong.of(7766279631452241919L), TargetArgs.scanU64("99999999999999999999"));
        assertEquals(OptionalLong.of(0), TargetArgs.scanU32("4294967296"));
        assertEquals(OptionalLong.of(4294967295L), TargetArgs.scanU32("4294967295"));
        for (String bad : List.of("-1", "+1", "1x", "0x10", "", " 1")) {
            assertEquals(OptionalLong.empty(), TargetArgs.scanU64(bad), bad);
        }
        assertEquals(OptionalLong.empty(), TargetArgs.scanU64(null));
    }

    /** kstrtouint: an optional '+', and ERANGE above 2^32 - 1 rather than a wrap. */
    @Test
    void kstrtouintRefusesWhatDoesNotFit() {
        assertEquals(OptionalLong.of(7), TargetArgs.kstrtouint("+7"));
        assertEquals(OptionalLong.of(4294967295L), TargetArgs.kstrtouint("0004294967295"));
        for (String bad : List.of("4294967296", "-1", "+", "", "7 ", "x")) {
            assertEquals(OptionalLong.empty(), TargetArgs.kstrtouint(bad), bad);
        }
    }

    /** The sector and device readers take the target's error; a lookup failure keeps its reason. */
    @Test
    void sectorsAndDevicesFailWithTheTargetsError() throws TargetException {
        TargetArgs as = args("ram0 8");
        String devname = as.shift();
        assertEquals(8, as.sector("Invalid device sector"));
        assertSame(ram0, as.device(devname, "Device lookup failed"));
        assertEquals("Invalid device sector", error(() -> args("").sector("Invalid device sector")));
        assertEquals("Device lookup failed: ram9: No such device", error(() -> args("").device("ram9", "Device lookup failed")));
        assertEquals("Device lookup failed", error(() -> args("").device(null, "Device lookup failed")));
    }
}
