package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.dmstack.block.QueueLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kind of bad table gets the kernel's words and the line, and changes nothing. */
class TableErrorsTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    /**
     * The kernel's checks in its order: dm_table_add_target (zero-length target, then "too large
     * device" when start + length overflows or passes LLONG_MAX >> SECTOR_SHIFT, then the target
     * type), adjoin ("Gap in table"), the target's constructor, device_area_is_invalid (sectors
     * compared and printed unsigned); numbers are read as dmsetup's sscanf %llu reads them.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
        gap                 | 0 100 testlinear ram0 0\\n200 100 testlinear ram0 100 | line 2: testlinear: Gap in table (sectors 100 to 199 are not mapped)
        overlap             | 0 100 testlinear ram0 0\\n50 100 testlinear ram0 100  | line 2: testlinear: Gap in table (targets overlap: this one starts at sector 50 but the one before ends at 100)
        first not at 0      | 8 100 testlinear ram0 0                             | line 1: testlinear: Gap in table (the first target must start at sector 0, not 8)
        zero length         | 0 0 testlinear ram0 0                               | line 1: testlinear: zero-length target
        start not a number  | x 100 testlinear ram0 0                             | line 1: Invalid format: start 'x' is not a sector number
        length not a number | 0 1O0 testlinear ram0 0                             | line 1: Invalid format: length '1O0' is not a sector number
        negative length     | 0 -5 testlinear ram0 0                              | line 1: testlinear: too large device
        overflowing length  | 0 99999999999999999999 testlinear ram0 0            | line 1: testlinear: too large device
        start+length        | 9223372036854775807 1 testlinear ram0 0             | line 1: testlinear: too large device
        sign and letters    | 0 -x testlinear ram0 0                              | line 1: Invalid format: length '-x' is not a sector number
        unknown type        | 0 100 nosuch ram0 0                                 | line 1: nosuch: unknown target type
        missing device      | 0 100 testlinear ram9 0                             | line 1: testlinear: Device lookup failed: ram9: No such device
        start -1            | -1 100 zero                                         | line 1: zero: too large device
        LLONG_MAX sectors   | 0 9223372036854775807 zero                          | line 1: zero: too large device
        one past the limit  | 0 18014398509481984 zero                            | line 1: zero: too large device
        too few args        | 0 100 testlinear ram0                               | line 1: testlinear: Invalid argument count
        zero with args      | 0 100 zero x                                        | line 1: zero: No arguments required
        no target type      | 0 100                                               | line 1: Invalid format: expected <start> <length> <target> [<args>...], got 2 words
        second line bad     | 0 100 testlinear ram0 0\\n100 100 testlinear 1:7 0  | line 2: testlinear: Device lookup failed: 1:7: No such device
        comments counted    | # a table\\n\\n0 100 zero\\n100 100 nosuch         | line 4: nosuch: unknown target type
        """)
    void badTableIsRefusedAndChangesNothing(String name, String table, String error) {
        String text = table.replace("\\n", "\n");
        f.dm.create("keep", "0 2048 testlinear ram1 0");
        String before = f.dm.table("keep");

        DmException create = assertThrows(DmException.class, () -> f.dm.create("new", text));
        assertEquals(error, create.getMessage());
        DmException load = assertThrows(DmException.class, () -> f.dm.load("keep", text));
        assertEquals(error, load.getMessage());

        assertEquals(List.of("keep"), f.dm.list().stream().map(DeviceInfo::name).toList());
        assertEquals(before, f.dm.table("keep"));
        assertFalse(f.dm.get("keep").hasInactiveTable());
        assertEquals(Set.of(), f.registry.holders(new DevT(1, 0)), "no device stays held by a failed table");
        assertEquals(Set.of(new DevT(254, 0)), f.registry.holders(new DevT(1, 1)));
        assertEquals(3, f.registry.devices().size());
    }

    /**
     * device_area_is_invalid runs in dm_calculate_queue_limits, which 6.1 calls for a device's
     * first table when it is loaded (table_load: dm_setup_md_queue) and for every later one only
     * when it is resumed (do_resume: dm_swap_table). A failed resume destroys the new table and
     * leaves the device suspended on its old one; a second resume brings that back.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        beyond device end   | 0 100 testlinear ram0 2000                 | line 1: testlinear: ram0 too small for target: start=2000, len=100, dev_size=2048
        offset 2^64-1       | 0 100 testlinear ram0 18446744073709551615 | line 1: testlinear: ram0 too small for target: start=18446744073709551615, len=100, dev_size=2048
        end at device end+1 | 0 100 testlinear ram0 1949                 | line 1: testlinear: ram0 too small for target: start=1949, len=100, dev_size=2048
        second line bad     | 0 100 zero\\n100 100 testlinear ram0 1949  | line 2: testlinear: ram0 too small for target: start=1949, len=100, dev_size=2048
        """)
    void badDeviceAreasAreRefusedAtTheFirstLoadAndOtherwiseAtResume(String name, String table, String error) {
        String text = table.replace("\\n", "\n");
        assertEquals(error, assertThrows(DmException.class, () -> f.dm.create("new", text)).getMessage());
        f.dm.create("empty", "");
        assertEquals(error, assertThrows(DmException.class, () -> f.dm.load("empty", text)).getMessage(), "a first table is checked when loaded");
        assertFalse(f.dm.get("empty").hasInactiveTable());

        // Not DAX-capable (zero has no direct_access), so that a table with a zero target may replace it (is_valid_type).
        f.dm.create("keep", "0 8 zero\n8 2040 testlinear ram1 8");
        String before = f.dm.table("keep");
        f.dm.load("keep", text);
        assertTrue(f.dm.get("keep").hasInactiveTable(), "a later table is only checked when resumed");
        assertEquals(Set.of(new DevT(254, 1)), f.registry.holders(new DevT(1, 0)));
        assertEquals("resume ioctl on keep failed: Invalid argument (" + error + ")",
                assertThrows(DmException.class, () -> f.dm.resume("keep")).getMessage());
        assertFalse(f.dm.get("keep").hasInactiveTable());
        assertTrue(f.dm.info("keep").suspended());
        assertEquals(before, f.dm.table("keep"));
        assertEquals(Set.of(), f.registry.holders(new DevT(1, 0)), "no device stays held by the destroyed table");
        f.dm.resume("keep");
        assertFalse(f.dm.info("keep").suspended());
    }

    /**
     * dm-table.c 6.1, validate_hardware_logical_block_alignment: where a target without devices
     * meets one on 4096-byte blocks, the table must still fall on whole blocks; the kernel names
     * "table line" i, the 0-based target that failed, or the number of targets when only the end
     * is unaligned.
     */
    @Test
    void targetsMustMeetOnTheTablesLogicalBlocks() {
        MemDisk sdb = new MemDisk("sdb", new DevT(8, 16), 2048, false, false, QueueLimits.of(4096, 4096));
        f.registry.add(sdb.disk);
        assertEquals("table line 2 (start sect 8 len 1) not aligned to h/w logical block size 4096",
                assertThrows(DmException.class, () -> f.dm.create("end", "0 8 testlinear sdb 0\n8 1 zero")).getMessage());
        assertEquals("table line 1 (start sect 1 len 8) not aligned to h/w logical block size 4096",
                assertThrows(DmException.class, () -> f.dm.create("inner", "0 1 zero\n1 8 testlinear sdb 0")).getMessage());
        assertEquals(List.of(), f.dm.list());
        assertEquals(16, f.dm.create("good", "0 8 testlinear sdb 0\n8 8 zero").disk().capacity());
    }

    /**
     * dmsetup reads start and length with sscanf's %llu (strtoull: a sign is allowed, "-N" wraps);
     * dm_table_add_target accepts up to LLONG_MAX >> SECTOR_SHIFT sectors in all.
     */
    @Test
    void numbersAreReadAsDmsetupReadsThemUpToTheKernelsLimit() {
        f.dm.create("big", "0 18014398509481983 zero");
        assertEquals("0 18014398509481983 zero \n", f.dm.table("big"));
        f.dm.create("plus", "+0 +100 zero");
        assertEquals("0 100 zero \n", f.dm.table("plus"));
        assertEquals("line 1: zero: too large device", assertThrows(DmException.class, () -> f.dm.create("wrap", "1 -1 zero")).getMessage());
    }

    /**
     * dmsetup create with a table file of no target lines: libdm's create loads a table only when
     * it has targets, so the device exists without one, as with --notable. A load of such a table
     * reaches the kernel, whose populate_table refuses it.
     */
    /**
     * A file that is not a table (here one shaped like /etc/shadow) is not echoed back: a message
     * quotes at most the offending word, cut at 16 printable characters.
     */
    @Test
    void aFileThatIsNotATableIsNotQuotedBack() {
        String secret = "root:$y$j9T$SECRETSALTSECRETSALT$HASHHASHHASHHASHHASHHASHHASH:19000:0:99999:7:::";
        assertEquals("line 1: Invalid format: expected <start> <length> <target> [<args>...], got 1 word",
                assertThrows(DmException.class, () -> f.dm.create("x", secret + "\n")).getMessage());
        assertEquals("line 1: Invalid format: start 'root:$y$j9T$SECR...' is not a sector number",
                assertThrows(DmException.class, () -> f.dm.create("x", secret + " 1 2\n")).getMessage());
        assertEquals("line 1: Invalid format: start '?ELF????' is not a sector number",
                assertThrows(DmException.class, () -> f.dm.create("x", "\u007fELF\u0002\u0001\u0001\u0000 0 zero\n")).getMessage());
    }

    @Test
    void emptyTableCreatesTheDeviceWithoutATableButIsNoTableToLoad() {
        MappedDevice md = f.dm.create("empty", "# nothing here\n\n");
        assertFalse(md.hasLiveTable());
        assertFalse(md.hasInactiveTable());
        assertEquals("", f.dm.table("empty"));
        assertEquals(0, md.disk().capacity());
        assertEquals("127", md.disk().attributes().read("queue/max_sectors_kb"), "blk_alloc_disk's default limits until a table is live");
        assertEquals(List.of(new DevT(254, 0)), f.dm.list().stream().map(DeviceInfo::devt).toList());
        assertEquals("no targets specified", assertThrows(DmException.class, () -> f.dm.load("empty", "# still nothing")).getMessage());
        f.dm.load("empty", "0 100 zero");
        f.dm.resume("empty");
        assertEquals("0 100 zero \n", f.dm.table("empty"));
    }

    @Test
    void failedCreateLeavesNoDeviceAndNoNumberUsed() {
        assertThrows(DmException.class, () -> f.dm.create("bad", "0 100 nosuch"));
        assertEquals(List.of(), f.dm.list());
        assertEquals("dm-0", f.dm.create("good", "0 100 zero").disk().name());
    }

    @Test
    void badNamesAndMissingDevices() {
        assertEquals("Invalid device name 'a/b'", assertThrows(DmException.class, () -> f.dm.create("a/b", "0 1 zero")).getMessage());
        assertEquals("Invalid device name ''", assertThrows(DmException.class, () -> f.dm.create("", "0 1 zero")).getMessage());
        f.dm.create("one", "0 1 zero");
        assertEquals("create ioctl on one failed: Device or resource busy (a device with this name exists)",
                assertThrows(DmException.class, () -> f.dm.create("one", "0 1 zero")).getMessage());
        assertEquals("Device nope not found", assertThrows(DmException.class, () -> f.dm.load("nope", "0 1 zero")).getMessage());
        assertEquals("Device nope not found", assertThrows(DmException.class, () -> f.dm.remove("nope")).getMessage());
    }

    @Test
    void aDeviceCannotBeStackedOnItself() {
        f.dm.create("a", "0 100 zero");
        DmException e = assertThrows(DmException.class, () -> f.dm.load("a", "0 100 testlinear dm-0 0"));
        assertEquals("line 1: testlinear: Device lookup failed: dm-0: a device cannot be stacked on itself", e.getMessage());
        f.dm.create("b", "0 100 testlinear /dev/mapper/a 0");
        e = assertThrows(DmException.class, () -> f.dm.load("a", "0 100 testlinear b 0"));
        assertEquals("line 1: testlinear: Device lookup failed: b: a device cannot be stacked on itself", e.getMessage());
    }

    @Test
    void removeIsRefusedWhileAnotherTableUsesTheDevice() {
        f.dm.create("lower", "0 2048 testlinear ram0 0");
        f.dm.create("upper", "0 2048 testlinear lower 0");
        DmException e = assertThrows(DmException.class, () -> f.dm.remove("lower"));
        assertEquals("remove ioctl on lower failed: Device or resource busy (used by upper)", e.getMessage());
        assertTrue(f.dm.get("lower").hasLiveTable());
        f.dm.remove("upper");
        f.dm.remove("lower");
        assertEquals(List.of(), f.dm.list());
        assertEquals(Set.of(), f.registry.holders(new DevT(1, 0)));
    }
}
