package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmstack.nvdimm.MediaErrorListener;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The memory-device map state flags of iasl-compiled tables, as Linux 6.1 acts on them and shows
 * them (drivers/acpi/nfit/core.c: acpi_nfit_register_dimms, flags_show; drivers/nvdimm/
 * region_devs.c: nd_region_create, read_only_store) and as ndctl v78 lists them (ndctl/json.c
 * util_dimm_to_json).
 */
class NvdimmStateTest {
    @TempDir
    Path dir;

    /**
     * nfit-interleaved.asl: nmem0 (handle 0x1001) is not armed and has seen health events. Linux
     * makes its region read-only (NDD_UNARMED), logs the failure flags, shows them in
     * nmem0/nfit/flags; ndctl lists flag_failed_arm and flag_smart_event, in util_dimm_to_json's
     * order, and nothing of the read-only state in the region (region_to_json has no such field).
     */
    @Test
    void anUnarmedNvdimmMakesItsRegionReadOnly() throws Exception {
        NfitPlatform p = platform(IaslTest.resource("nfit-interleaved.asl"));
        assertTrue(p.regions().getFirst().readOnly());
        assertEquals("not_armed smart_event ", p.dimms().get(0).nfitFlags());
        assertEquals("", p.dimms().get(1).nfitFlags());
        assertEquals("Error found in NVDIMM nmem0 flags: not_armed", p.dimms().get(0).errorMessage());
        assertNull(p.dimms().get(1).errorMessage());
        assertEquals("""
                [
                  {
                    "dev":"nmem0",
                    "id":"8680-efcdab00",
                    "handle":4097,
                    "phys_id":0,
                    "flag_failed_arm":true,
                    "flag_smart_event":true
                  },
                  {
                    "dev":"nmem1",
                    "id":"8680-f0cdab00",
                    "handle":4113,
                    "phys_id":1
                  }
                ]
                """, NdctlJson.list(p, NamespaceInfo.NONE, "-D"));
        assertEquals("""
                [
                  {
                    "dev":"region0",
                    "size":268435456,
                    "align":16777216,
                    "available_size":0,
                    "max_available_extent":0,
                    "type":"pmem",
                    "persistence_domain":"memory_controller"
                  }
                ]
                """, NdctlJson.list(p, NamespaceInfo.NONE, "-R"));
    }

    /**
     * Each flag of nmem0 (handle 0x101, the one NVDIMM of region0) in nfit-two-pmem-volatile.asl:
     * only "not armed" makes the region read-only; the failure flags (ACPI_NFIT_MEM_FAILED_MASK)
     * are logged; every flag shows in nfit/flags in flags_show's order; ndctl lists five of them
     * (health events enabled has no field).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0x01|false|'save_fail '|save_fail|flag_failed_save",
        "0x02|false|'restore_fail '|restore_fail|flag_failed_restore",
        "0x04|false|'flush_fail '|flush_fail|flag_failed_flush",
        "0x08|true|'not_armed '|not_armed|flag_failed_arm",
        "0x10|false|'smart_event '|''|flag_smart_event",
        "0x20|false|'smart_notify '|''|''",
        "0x40|false|'map_fail '|map_fail|flag_failed_map",
        "0x7f|true|'save_fail restore_fail flush_fail not_armed smart_event map_fail smart_notify '|"
                + "save_fail restore_fail flush_fail not_armed map_fail|"
                + "flag_failed_map flag_failed_save flag_failed_arm flag_failed_restore flag_failed_flush flag_smart_event"})
    void eachFlagHasLinuxsEffectAndOutput(String flags, boolean readOnly, String sysfs, String logged, String ndctl)
            throws Exception {
        int value = Integer.decode(flags);
        NfitPlatform p = platform(withFlags(IaslTest.resource("nfit-two-pmem-volatile.asl"), value));
        NfitPlatform.Dimm nmem0 = p.dimms().getFirst();
        assertEquals(value, nmem0.flags(), "iasl compiled the flags asked for");
        assertEquals(List.of(readOnly, false, false), p.regions().stream().map(Region::readOnly).toList());
        assertEquals(sysfs, nmem0.nfitFlags());
        assertEquals(logged.isEmpty() ? null : "Error found in NVDIMM nmem0 flags: " + logged, nmem0.errorMessage());
        List<String> fields = new ArrayList<>(NdctlJson.dimm(nmem0, NdctlJson.Options.parse("-D")).keySet());
        fields.removeIf(f -> !f.startsWith("flag_"));
        assertEquals(ndctl.isEmpty() ? List.of() : List.of(ndctl.split(" ")), fields);
    }

    /**
     * read_only_store: writing the region's read_only sets it whatever the NVDIMMs say and
     * revalidates the devices over it (NVDIMM_REVALIDATE_REGION); the setting outlives later changes
     * of the region (poison); an unknown region changes nothing.
     */
    @Test
    void writingReadOnlyOverridesAndTellsTheDriver() throws Exception {
        NfitPlatform p = platform(IaslTest.resource("nfit-interleaved.asl"));
        List<String> told = new ArrayList<>();
        p.addMediaErrorListener(new MediaErrorListener() {
            @Override
            public void poisonInjected(Region region, Region.PoisonRange range) {}

            @Override
            public void poisonCleared(Region region, Region.PoisonRange range) {}

            @Override
            public void regionRevalidated(Region region) {
                told.add(region.name() + " ro=" + region.readOnly());
            }
        });
        Region rw = p.setReadOnly("region0", false);
        assertEquals(false, rw.readOnly());
        assertEquals(rw, p.regions().getFirst());
        p.injectError("region0", 4096, 512);
        assertEquals(false, p.regions().getFirst().readOnly(), "the written state stays when poison changes");
        p.setReadOnly("region0", true);
        assertEquals(List.of("region0 ro=false", "region0 ro=true"), told);
        assertEquals("no region region9", assertThrows(IllegalArgumentException.class,
                () -> p.setReadOnly("region9", false)).getMessage());
        assertEquals(2, told.size());
    }

    private NfitPlatform platform(String asl) throws Exception {
        Nfit nfit = NfitParser.parse(Iasl.require().compile(dir, "t", asl));
        List<Region.Backing> backings = new ArrayList<>();
        for (var s : nfit.regionRanges()) {
            backings.add(s.rangeType() == RangeType.VOLATILE_MEMORY ? Region.Backing.anonymous()
                    : Region.Backing.file(dir.resolve("r" + backings.size()), true));
        }
        return new NfitPlatform(nfit, backings, List.of());
    }

    /** The table with handle 0x101's map flags set to {@code flags}, the value and the decoded bits alike. */
    private static String withFlags(String asl, int flags) {
        Matcher m = Pattern.compile("(Device Handle : 00000101[\\s\\S]*?Flags : )0010\\n((?:[^\\n]*: [01]\\n){7})").matcher(asl);
        assertTrue(m.find(), "handle 0x101's map flags in the table source");
        StringBuilder bits = new StringBuilder();
        String[] lines = m.group(2).split("\n");
        for (int i = 0; i < lines.length; i++) bits.append(lines[i], 0, lines[i].length() - 1).append((flags >> i) & 1).append('\n');
        return asl.substring(0, m.start()) + m.group(1) + String.format("%04X", flags) + "\n" + bits + asl.substring(m.end());
    }

}
