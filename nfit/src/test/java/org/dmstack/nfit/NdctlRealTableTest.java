package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.nfit.Subtable.Capabilities;
import org.dmstack.nfit.Subtable.ControlRegion;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ndctl 76 over a real table shaped like the one QEMU gives a guest with two NVDIMMs: per DIMM an
 * SPA range, a memory-device map and a control region, listed with the second slot first (QEMU
 * walks its device list in no particular order), with and without a platform capabilities
 * subtable; loaded as a table file is (NfitPlatform.fromTable), one raw namespace per region.
 */
class NdctlRealTableTest {
    @TempDir
    Path dir;

    /** One QEMU NVDIMM in {@code slot} (nvdimm_build_structure_spa, _memdev, _dcr). */
    private static List<Subtable> qemuNvdimm(int slot, long address, long size) {
        int spaIndex = (slot + 1) << 1;
        return List.of(
                new SpaRange(spaIndex, 3, 0, 0, RangeType.PERSISTENT_MEMORY.guid(), address, size, 0x8008, 0),
                new MemoryMap(slot + 1, 0, 0, spaIndex, spaIndex + 1, size, 0, 0, 0, 1, 0, 0),
                new ControlRegion(spaIndex + 1, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0x123456 + slot, 0x301, 0, 0, 0, 0, 0, 0,
                        0, 0));
    }

    private NfitPlatform load(boolean capabilities) throws Exception {
        List<Subtable> subs = new ArrayList<>();
        subs.addAll(qemuNvdimm(1, 0x1_4000_0000L, 32L << 20));
        subs.addAll(qemuNvdimm(0, 0x1_0000_0000L, 64L << 20));
        if (capabilities) subs.add(new Capabilities(1, 0, Capabilities.MEMORY_FLUSH, 0));
        Path table = dir.resolve("NFIT");
        java.nio.file.Files.write(table, NfitWriter.write(NfitWriter.defaultHeader(), subs));
        return NfitPlatform.fromTable(table, List.of(Region.Backing.file(dir.resolve("r0"), true),
                Region.Backing.file(dir.resolve("r1"), true)), List.of());
    }

    private static final NamespaceInfo RAW = region -> List.of(NamespaceInfo.Namespace.raw(region, "pmem" + region.id()));

    /**
     * util_dimm_to_json and util_mapping_to_json print handle, phys_id, offset and length with
     * util_json_object_hex, which is "%#llx" under -u (0 is "0"); nmemN follow Linux's handle
     * order (nfit_mem_cmp), so the first region (the table's first range, slot 1) maps to nmem1;
     * no iset_id without labels (ndctl_region_get_interleave_set); an empty sysfs
     * persistence_domain is "unknown"; dimms and regions make list_display print one object.
     */
    @Test
    void listRNDuWithoutCapabilities() throws Exception {
        assertEquals("""
                {
                  "dimms":[
                    {
                      "dev":"nmem0",
                      "id":"8680-56341200",
                      "handle":"0x1",
                      "phys_id":"0"
                    },
                    {
                      "dev":"nmem1",
                      "id":"8680-57341200",
                      "handle":"0x2",
                      "phys_id":"0"
                    }
                  ],
                  "regions":[
                    {
                      "dev":"region0",
                      "size":"32.00 MiB (33.55 MB)",
                      "align":"16.00 MiB (16.78 MB)",
                      "available_size":0,
                      "max_available_extent":0,
                      "type":"pmem",
                      "mappings":[
                        {
                          "dimm":"nmem1",
                          "offset":"0",
                          "length":"0x2000000",
                          "position":0
                        }
                      ],
                      "persistence_domain":"unknown",
                      "namespaces":[
                        {
                          "dev":"namespace0.0",
                          "mode":"raw",
                          "size":"32.00 MiB (33.55 MB)",
                          "sector_size":512,
                          "blockdev":"pmem0"
                        }
                      ]
                    },
                    {
                      "dev":"region1",
                      "size":"64.00 MiB (67.11 MB)",
                      "align":"16.00 MiB (16.78 MB)",
                      "available_size":0,
                      "max_available_extent":0,
                      "type":"pmem",
                      "mappings":[
                        {
                          "dimm":"nmem0",
                          "offset":"0",
                          "length":"0x4000000",
                          "position":0
                        }
                      ],
                      "persistence_domain":"unknown",
                      "namespaces":[
                        {
                          "dev":"namespace1.0",
                          "mode":"raw",
                          "size":"64.00 MiB (67.11 MB)",
                          "sector_size":512,
                          "blockdev":"pmem1"
                        }
                      ]
                    }
                  ]
                }
                """, NdctlJson.list(load(false), RAW, "-RNDu"));
    }

    /**
     * list_display counts the namespace array of the last region walked (filter_region starts one
     * per region and filter_namespace fills it): with -RN and namespaces there it prints
     * {"regions":[...]}, the object form, not a bare array.
     */
    @Test
    void listRNWithCapabilitiesIsTheObjectForm() throws Exception {
        assertEquals("""
                {
                  "regions":[
                    {
                      "dev":"region0",
                      "size":33554432,
                      "align":16777216,
                      "available_size":0,
                      "max_available_extent":0,
                      "type":"pmem",
                      "persistence_domain":"memory_controller",
                      "namespaces":[
                        {
                          "dev":"namespace0.0",
                          "mode":"raw",
                          "size":33554432,
                          "sector_size":512,
                          "blockdev":"pmem0"
                        }
                      ]
                    },
                    {
                      "dev":"region1",
                      "size":67108864,
                      "align":16777216,
                      "available_size":0,
                      "max_available_extent":0,
                      "type":"pmem",
                      "persistence_domain":"memory_controller",
                      "namespaces":[
                        {
                          "dev":"namespace1.0",
                          "mode":"raw",
                          "size":67108864,
                          "sector_size":512,
                          "blockdev":"pmem1"
                        }
                      ]
                    }
                  ]
                }
                """, NdctlJson.list(load(true), RAW, "-RN"));
    }

    /** The same list_display rule the other way: when the last region has no namespace, a bare array. */
    @Test
    void listRNIsABareArrayWhenTheLastRegionHasNoNamespace() throws Exception {
        NamespaceInfo firstOnly = region -> region.id() == 0 ? RAW.namespaces(region) : List.of();
        String json = NdctlJson.list(load(false), firstOnly, "-RN");
        assertEquals("[\n  {\n    \"dev\":\"region0\",", json.substring(0, json.indexOf(',') + 1));
        assertEquals(true, json.contains("\"namespaces\":["), json);
    }

    /**
     * Linux's sysfs set_cookie for these regions is the v1.1 interleave-set cookie
     * (acpi_nfit_init_interleave_set); region0 is slot 1 (serial 0x123457).
     */
    @Test
    void regionsKeepLinuxsSetCookie() throws Exception {
        List<Region> regions = load(false).regions();
        assertEquals(0x2468ae00123457L, regions.get(0).isetId());
        assertEquals(0x2468ac00123456L, regions.get(1).isetId());
        assertEquals(Region.PersistenceDomain.NONE, regions.get(0).persistenceDomain());
    }
}
