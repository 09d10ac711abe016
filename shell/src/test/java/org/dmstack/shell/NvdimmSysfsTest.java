package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nfit.EmulatedPlatform;
import org.dmstack.nfit.NfitParser;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.nfit.NfitWriter;
import org.dmstack.nfit.Subtable;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nvdimm.Region;
import org.dmstack.pmem.Pmem;
import org.dmstack.shell.dd.Dd;
import org.dmstack.shell.lsblk.Lsblk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An NVDIMM that is not armed, seen through the shell as Linux 6.1 shows it: the region's
 * read_only and the NVDIMM's nfit/flags below /sys/bus/nd/devices, the pmem disk's ro in sysfs and
 * lsblk, dd refused; writing read_only 0 makes the region and its disk writable again.
 */
class NvdimmSysfsTest {
    @TempDir
    Path dir;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private Pmem pmem;
    private NfitPlatform platform;

    /** Two pmem NVDIMMs as QEMU builds them; the first one's map says "not armed" and "health events observed". */
    @BeforeEach
    void setUp() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(
                List.of("pmem:16M:" + dir.resolve("n0"), "pmem:16M:" + dir.resolve("n1")), "mem-ctrl", List.of());
        List<Subtable> subtables = e.subtables().stream().map(s -> s instanceof MemoryMap m && m.deviceHandle() == 1
                ? new MemoryMap(m.deviceHandle(), m.physicalId(), m.regionId(), m.rangeIndex(), m.controlRegionIndex(),
                        m.regionSize(), m.regionOffset(), m.address(), m.interleaveIndex(), m.interleaveWays(),
                        MemoryMap.FLAG_NOT_ARMED | MemoryMap.FLAG_HEALTH_OBSERVED, m.reserved())
                : s).toList();
        byte[] table = NfitWriter.write(NfitParser.parse(e.toBinary()).header(), subtables);
        platform = new NfitPlatform(NfitParser.parse(table), List.of(Region.Backing.file(dir.resolve("n0"), true),
                Region.Backing.file(dir.resolve("n1"), true)), List.of());
        pmem = new Pmem(registry);
        platform.addMediaErrorListener(pmem);
        platform.regions().forEach(pmem::addRegion);
    }

    @AfterEach
    void tearDown() {
        pmem.close();
    }

    private String sysfs(String line) {
        return Stack.capture((out, err) -> new Sysfs(registry, () -> List.of(platform)).run(Stack.words(line), out));
    }

    private String dd(String line) {
        return Stack.capture((out, err) -> new Dd(registry, dir).run(Stack.words(line), out, err));
    }

    @Test
    void theBusShowsTheFlagsAndTheReadOnlyRegion() {
        assertEquals("nmem0\nnmem1\nregion0\nregion1\n", sysfs("/sys/bus/nd/devices"));
        assertEquals("mapping0\nmappings\npersistence_domain\nread_only\nset_cookie\nsize\n", sysfs("/sys/bus/nd/devices/region0"));
        assertEquals("1\n", sysfs("/sys/bus/nd/devices/region0/read_only"));
        assertEquals("0\n", sysfs("/sys/bus/nd/devices/region1/read_only"));
        assertEquals("16777216\n", sysfs("/sys/bus/nd/devices/region0/size"));
        assertEquals("1\n", sysfs("/sys/bus/nd/devices/region0/mappings"));
        assertEquals("nmem0,0,16777216\n", sysfs("/sys/bus/nd/devices/region0/mapping0"));
        assertEquals("memory_controller\n", sysfs("/sys/bus/nd/devices/region0/persistence_domain"));
        assertEquals("not_armed smart_event \n", sysfs("/sys/bus/nd/devices/nmem0/nfit/flags"));
        assertEquals("\n", sysfs("/sys/bus/nd/devices/nmem1/nfit/flags"));
        assertEquals("0x1\n", sysfs("/sys/bus/nd/devices/nmem0/nfit/handle"));
        assertEquals("0\n", sysfs("/sys/bus/nd/devices/nmem0/nfit/phys_id"));
        assertEquals("8680-56341200\n", sysfs("/sys/bus/nd/devices/nmem0/nfit/id"));
        assertEquals("flags\nhandle\nid\nphys_id\n", sysfs("/sys/bus/nd/devices/nmem0/nfit"));
        assertEquals("sysfs: /sys/bus/nd/devices/nmem0/nfit/flags: Permission denied",
                assertThrows(CommandException.class, () -> sysfs("/sys/bus/nd/devices/nmem0/nfit/flags 0")).getMessage());
        assertEquals("sysfs: /sys/bus/nd/devices/region7/read_only: No such file or directory",
                assertThrows(CommandException.class, () -> sysfs("/sys/bus/nd/devices/region7/read_only")).getMessage());
    }

    @Test
    void thePmemDiskIsReadOnlyUntilTheRegionIsWritten() {
        assertEquals("1\n", sysfs("/sys/block/pmem0/ro"));
        assertEquals("0\n", sysfs("/sys/block/pmem1/ro"));
        assertEquals("""
                NAME  MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                pmem0 259:0    0  16M  1 disk\s
                pmem1 259:1    0  16M  0 disk\s
                """, Stack.capture((out, err) -> new Lsblk(registry).run(List.of(), out)));
        String refused = assertThrows(CommandException.class, () -> dd("if=/dev/zero of=/dev/pmem0 bs=4k count=1")).getMessage();
        assertTrue(refused.startsWith("dd: error writing '/dev/pmem0': Operation not permitted\n1+0 records in\n0+0 records out\n"),
                refused);

        assertEquals("sysfs: write error: Invalid argument (read_only: Invalid argument: 'maybe' (expected 1 or 0))",
                assertThrows(CommandException.class, () -> sysfs("/sys/bus/nd/devices/region0/read_only maybe")).getMessage());
        assertEquals("1\n", sysfs("/sys/bus/nd/devices/region0/read_only"), "a refused value changes nothing");
        assertEquals("", sysfs("/sys/bus/nd/devices/region0/read_only 0"));
        assertEquals("0\n", sysfs("/sys/bus/nd/devices/region0/read_only"));
        assertEquals("0\n", sysfs("/sys/block/pmem0/ro"));
        assertEquals("", dd("if=/dev/zero of=/dev/pmem0 bs=4k count=1 status=none"));
        sysfs("/sys/bus/nd/devices/region1/read_only on");
        assertEquals("1\n", sysfs("/sys/block/pmem1/ro"));
    }
}
