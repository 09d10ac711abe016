package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The {@code name=device[:ro]} form of the exports configuration. */
class ExportSpecTest {

    @Test
    void parsesEveryForm() {
        assertEquals(new ExportSpec("disk", "ram0", false), ExportSpec.parse("disk=ram0"));
        assertEquals(new ExportSpec("golden", "pmem0", true), ExportSpec.parse(" golden = pmem0:ro "));
        assertEquals(new ExportSpec("old", "1:0", true), ExportSpec.parse("old=1:0:ro"), "a device number keeps its colon");
        assertEquals(new ExportSpec("old", "1:0", false), ExportSpec.parse("old=1:0"));
        assertEquals(new ExportSpec("dm-0", "/dev/dm-0", false), ExportSpec.parse("/dev/dm-0"), "no name: the device's own");
        assertEquals(new ExportSpec("ram1", "ram1", true), ExportSpec.parse("ram1:ro"));
        assertEquals(new ExportSpec("ram1", "ram1", false), ExportSpec.parse("ram1:rw"));
    }

    @Test
    void printsTheFormItParses() {
        for (String s : new String[] {"disk=ram0", "golden=pmem0:ro", "old=1:0:ro"}) assertEquals(s, ExportSpec.parse(s).toString());
    }

    @Test
    void refusesWhatIsNotAnExport() {
        for (String bad : new String[] {"", "  ", "disk=", "=ram0", "disk=:ro", "bad\0name=ram0"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExportSpec.parse(bad), bad);
            assertTrue(e.getMessage().contains("export") || e.getMessage().contains("Export"), e.getMessage());
        }
        String longName = "x".repeat(4097);
        assertThrows(IllegalArgumentException.class, () -> ExportSpec.parse(longName + "=ram0"));
    }

    @Test
    void theSameNameTwiceIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NbdServer.builder().backends(new FakeBackends()).port(0).export("a=ram0").export("a=ram1").start());
        assertEquals("Export 'a' is configured twice", e.getMessage());
    }
}
