package org.dmstack.shell.dd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.dmstack.shell.CommandException;
import org.junit.jupiter.api.Test;

/** Expected values and messages as coreutils 9.1's dd gives them (LC_ALL=C). */
class DdOperandsTest {
    @Test
    void operandsBecomeOneRecord() {
        assertEquals(new DdOperands("/dev/zero", "/dev/ram0", 1 << 20, 1 << 20, 4, 1, 2, "progress", true, true, false, false, false),
                DdOperands.parse(List.of("if=/dev/zero", "of=/dev/ram0", "bs=1M", "count=4", "skip=1", "seek=2", "status=progress",
                        "conv=notrunc", "oflag=direct,dsync")));
        assertEquals(new DdOperands("a", "b", 512, 512, -1, 0, 0, "default", false, false, false, false, false), DdOperands.parse(List.of("if=a", "of=b")));
        assertEquals(new DdOperands("a", "b", 512, 512, -1, 0, 0, "default", true, false, false, false, false),
                DdOperands.parse(List.of("if=a", "of=b", "conv=fdatasync")));
        // bs= overrides ibs= and obs= wherever it stands; a count, skip or seek ending in B counts bytes (coreutils 9.1).
        assertEquals(new DdOperands("a", "b", 4096, 4096, 1000, 3, 0, "default", false, false, true, true, false),
                DdOperands.parse(List.of("if=a", "of=b", "bs=4K", "ibs=1000", "count=1kB", "skip=3B")));
        assertEquals(new DdOperands("a", "b", 1000, 512, 5, 0, 7, "default", false, false, true, false, true),
                DdOperands.parse(List.of("if=a", "of=b", "ibs=1000", "count=5", "iflag=count_bytes", "oseek=7", "oflag=seek_bytes")));
    }

    @Test
    void numbersTakeGnuDdsSuffixes() {
        assertEquals(1 << 20, DdOperands.number("1M"));
        assertEquals(1000, DdOperands.number("1kB"));
        assertEquals(1024, DdOperands.number("1K"));
        assertEquals(1536, DdOperands.number("3b"));
        assertEquals(6, DdOperands.number("3w"));
        assertEquals(1000, DdOperands.number("1KB"));
        assertEquals(1 << 20, DdOperands.number("1MiB"));
        assertEquals(1L << 50, DdOperands.number("1P"));
        assertEquals(1 << 20, DdOperands.number("1xM"));
        assertEquals(1 << 20, DdOperands.number("M"));
        assertEquals(100, DdOperands.number("100B"));
        assertEquals(512, DdOperands.number("1bB"));
        assertEquals("dd: invalid number: '1MBB'", assertThrows(CommandException.class, () -> DdOperands.number("1MBB")).getMessage());
        assertEquals("dd: invalid number: '2x3x4'", assertThrows(CommandException.class, () -> DdOperands.number("2x3x4")).getMessage());
        assertEquals("dd: invalid number: 'B'", assertThrows(CommandException.class, () -> DdOperands.number("B")).getMessage());
        assertEquals("dd: invalid number: '9999999999T': Value too large for defined data type",
                assertThrows(CommandException.class, () -> DdOperands.number("9999999999T")).getMessage().lines().findFirst().orElseThrow());
        assertEquals("dd: invalid number: '1Q'", assertThrows(CommandException.class, () -> DdOperands.number("1Q")).getMessage());
        assertEquals("dd: invalid number: '1m'", assertThrows(CommandException.class, () -> DdOperands.number("1m")).getMessage());
        assertEquals("dd: invalid number: '-1'", assertThrows(CommandException.class, () -> DdOperands.number("-1")).getMessage());
    }

    @Test
    void formatsAsGnuDdPrintsThem() {
        assertEquals("0.00200906", DdFormat.g(0.002009061));
        assertEquals("1.5", DdFormat.g(1.5));
        assertEquals("12.3457", DdFormat.g(12.345678));
        assertEquals("1.23457e-05", DdFormat.g(0.0000123456789));
        assertEquals("4.2 MB", DdFormat.si(4194304));
        assertEquals("4.0 MiB", DdFormat.iec(4194304));
        assertEquals("341 MB", DdFormat.si(341_000_000));
        assertEquals("1.0 GB", DdFormat.si(999_999_999));
        assertEquals("4194304 bytes (4.2 MB, 4.0 MiB) copied, 0.0123 s, 341 MB/s", Dd.transferLine(4194304, 12_300_000, false));
        // As dd 9.1 prints them: below 1024 bytes the IEC form has no prefix and is left out.
        assertEquals("1000 bytes (1.0 kB) copied, 1 s, 1.0 kB/s", Dd.transferLine(1000, 1_000_000_000, false));
        assertEquals("1023 bytes (1.0 kB) copied, 1 s, 1.0 kB/s", Dd.transferLine(1023, 1_000_000_000, false));
        assertEquals("1024 bytes (1.0 kB, 1.0 KiB) copied, 1 s, 1.0 kB/s", Dd.transferLine(1024, 1_000_000_000, false));
        assertEquals("999 bytes copied, 1 s, 999 B/s", Dd.transferLine(999, 1_000_000_000, false));
        assertEquals("1 byte copied, 1 s, 1 B/s", Dd.transferLine(1, 1_000_000_000, false));
    }
}
