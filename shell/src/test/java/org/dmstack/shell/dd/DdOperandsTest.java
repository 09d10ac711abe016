package org.dmstack.shell.dd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.dmstack.shell.CommandException;
import org.junit.jupiter.api.Test;

class DdOperandsTest {
    @Test
    void operandsBecomeOneRecord() {
        assertEquals(new DdOperands("/dev/zero", "/dev/ram0", 1 << 20, 4, 1, 2, "progress", true, true),
                DdOperands.parse(List.of("if=/dev/zero", "of=/dev/ram0", "bs=1M", "count=4", "skip=1", "seek=2", "status=progress",
                        "conv=notrunc", "oflag=direct,dsync")));
        assertEquals(new DdOperands("a", "b", 512, -1, 0, 0, "default", false, false), DdOperands.parse(List.of("if=a", "of=b")));
        assertEquals(new DdOperands("a", "b", 512, -1, 0, 0, "default", true, false), DdOperands.parse(List.of("if=a", "of=b", "conv=fdatasync")));
    }

    @Test
    void numbersTakeGnuDdsSuffixes() {
        assertEquals(1 << 20, DdOperands.number("1M"));
        assertEquals(1000, DdOperands.number("1kB"));
        assertEquals(1024, DdOperands.number("1K"));
        assertEquals(1536, DdOperands.number("3b"));
        assertEquals(6, DdOperands.number("3w"));
        assertEquals("dd: invalid number: '9999999999T': Value too large for defined data type",
                assertThrows(CommandException.class, () -> DdOperands.number("9999999999T")).getMessage().lines().findFirst().orElseThrow());
        assertEquals("dd: invalid number: '1Q'",
                assertThrows(CommandException.class, () -> DdOperands.number("1Q")).getMessage().lines().findFirst().orElseThrow());
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
    }
}
