package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dmstack.nfit.Subtable.Capabilities;
import org.dmstack.nfit.Subtable.ControlRegion;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;

/** ndctl list's field names, nesting and number formats (ndctl's list.c and json.c). */
class NdctlJsonTest {
    private static final NfitPlatform ONE = EmulatedPlatform.fromConfig(List.of("pmem:64M:/tmp/pmem0"), "cpu",
            List.of("region0:1K:1K", "region0:4K:512")).platform();
    private static final NamespaceInfo RAW = region -> List.of(NamespaceInfo.Namespace.raw(region, "pmem" + region.id()));

    @Test
    void dimms() {
        assertEquals("""
                [
                  {
                    "dev":"nmem0",
                    "id":"8680-56341200",
                    "handle":1,
                    "phys_id":0
                  }
                ]
                """, NdctlJson.list(ONE, NamespaceInfo.NONE, "-D"));
    }

    @Test
    void regionsWithDimmsShowMappingsAndBothLists() {
        assertEquals("""
                {
                  "dimms":[
                    {
                      "dev":"nmem0",
                      "id":"8680-56341200",
                      "handle":1,
                      "phys_id":0
                    }
                  ],
                  "regions":[
                    {
                      "dev":"region0",
                      "size":67108864,
                      "align":16777216,
                      "available_size":0,
                      "max_available_extent":0,
                      "type":"pmem",
                      "mappings":[
                        {
                          "dimm":"nmem0",
                          "offset":0,
                          "length":67108864,
                          "position":0
                        }
                      ],
                      "badblock_count":3,
                      "persistence_domain":"cpu_cache"
                    }
                  ]
                }
                """, NdctlJson.list(ONE, NamespaceInfo.NONE, "-RD"));
    }

    @Test
    void namespacesAloneAndNestedInRegions() {
        assertEquals("""
                [
                  {
                    "dev":"namespace0.0",
                    "mode":"raw",
                    "size":67108864,
                    "sector_size":512,
                    "blockdev":"pmem0",
                    "badblock_count":3
                  }
                ]
                """, NdctlJson.list(ONE, RAW, ""));
        // The last region has namespaces: list_display prints the object form (see NdctlRealTableTest).
        String nested = NdctlJson.list(ONE, RAW, "-R -N");
        assertEquals(true, nested.startsWith("{\n  \"regions\":[\n"), nested);
        assertEquals(true, nested.contains("""
                      "available_size":0,
                      "max_available_extent":0,
                """), nested);
        assertEquals(true, nested.contains("""
                      "persistence_domain":"cpu_cache",
                      "namespaces":[
                        {
                          "dev":"namespace0.0",
                """), nested);
    }

    /** -v: cmd_list turns on -N and -M; region and namespace objects gain numa_node and target_node. */
    @Test
    void verboseListsNamespacesWithMediaErrorsAndNumaNodes() {
        assertEquals("""
                [
                  {
                    "dev":"namespace0.0",
                    "mode":"raw",
                    "size":67108864,
                    "sector_size":512,
                    "blockdev":"pmem0",
                    "numa_node":0,
                    "target_node":0,
                """ + badBlocks(4) + """
                  }
                ]
                """, NdctlJson.list(ONE, RAW, "-v"));
    }

    /** -vv adds -B -D -R: everything nests in the bus object (provider, dev, scrub_state). */
    @Test
    void doubleVerboseNestsEverythingInTheBus() {
        NfitPlatform adr = EmulatedPlatform.fromConfig(List.of("pmem:64M:/tmp/pmem0"), "mem-ctrl", List.of()).platform();
        assertEquals("""
                [
                  {
                    "provider":"ACPI.NFIT",
                    "dev":"ndbus0",
                    "scrub_state":"idle",
                    "dimms":[
                      {
                        "dev":"nmem0",
                        "id":"8680-56341200",
                        "handle":1,
                        "phys_id":0
                      }
                    ],
                    "regions":[
                      {
                        "dev":"region0",
                        "size":67108864,
                        "align":16777216,
                        "available_size":0,
                        "max_available_extent":0,
                        "type":"pmem",
                        "numa_node":0,
                        "target_node":0,
                        "mappings":[
                          {
                            "dimm":"nmem0",
                            "offset":0,
                            "length":67108864,
                            "position":0
                          }
                        ],
                        "persistence_domain":"memory_controller",
                        "namespaces":[
                          {
                            "dev":"namespace0.0",
                            "mode":"raw",
                            "size":67108864,
                            "sector_size":512,
                            "blockdev":"pmem0",
                            "numa_node":0,
                            "target_node":0
                          }
                        ]
                      }
                    ]
                  }
                ]
                """, NdctlJson.list(adr, RAW, "-vv"));
    }

    @Test
    void busesAlone() {
        assertEquals("""
                [
                  {
                    "provider":"ACPI.NFIT",
                    "dev":"ndbus0",
                    "scrub_state":"idle"
                  }
                ]
                """, NdctlJson.list(ONE, RAW, "-B"));
        assertEquals("""
                {
                  "provider":"ACPI.NFIT",
                  "dev":"ndbus0",
                  "scrub_state":"idle",
                  "namespaces":[
                    {
                      "dev":"namespace0.0",
                      "mode":"raw",
                      "size":"64.00 MiB (67.11 MB)",
                      "sector_size":512,
                      "blockdev":"pmem0",
                      "badblock_count":3
                    }
                  ]
                }
                """, NdctlJson.list(ONE, RAW, "-BNu"), "without -R a bus holds its namespaces; -u prints one bus bare");
    }

    @Test
    void mediaErrorsListBadBlocksInSectors() {
        String json = NdctlJson.list(ONE, NamespaceInfo.NONE, "-RM");
        assertEquals(true, json.contains(badBlocks(4).stripTrailing() + ",\n"), json);
    }

    /** ONE's poison as ndctl lists it: merged 512-byte sectors, each run naming the one NVDIMM. */
    private static String badBlocks(int indent) {
        return """
                "badblock_count":3,
                "badblocks":[
                  {
                    "offset":2,
                    "length":2,
                    "dimms":[
                      "nmem0"
                    ]
                  },
                  {
                    "offset":8,
                    "length":1,
                    "dimms":[
                      "nmem0"
                    ]
                  }
                ]""".indent(indent);
    }

    @Test
    void humanFormatPrintsSizesAndHexAndASingleObject() {
        assertEquals("""
                {
                  "dev":"region0",
                  "size":"64.00 MiB (67.11 MB)",
                  "align":"16.00 MiB (16.78 MB)",
                  "available_size":0,
                  "max_available_extent":0,
                  "type":"pmem",
                  "badblock_count":3,
                  "persistence_domain":"cpu_cache"
                }
                """, NdctlJson.list(ONE, NamespaceInfo.NONE, "-Ru"));
        assertEquals("4.00 GiB (4.29 GB)", NdctlJson.humanSize(4L << 30));
        assertEquals(4096L, NdctlJson.humanSize(4096));
    }

    /**
     * ndctl_region_get_interleave_set gives an iset_id only for regions of nstype namespace_pmem
     * (label-capable NVDIMMs), so a region with a cookie still prints none; a region whose sysfs
     * persistence_domain is empty (no capabilities subtable) is "unknown" (region_get_pd_type).
     */
    @Test
    void noIsetIdWithoutLabelsAndUnknownPersistenceWithoutCapabilities() {
        Region r = new Region("region0", 0, Region.Type.PERSISTENT, 0, 1 << 30, Region.Backing.anonymous(),
                Region.PersistenceDomain.NONE, 1, List.of(), List.of(), -2506113243053544244L, List.of());
        String json = NdctlJson.list(List.of(r), List.of(), NamespaceInfo.NONE, NdctlJson.Options.parse("-R"));
        assertEquals(false, json.contains("iset_id"), json);
        assertEquals(true, json.contains("\"persistence_domain\":\"unknown\""), json);
    }

    @Test
    void interleavedRegionAlignAndDimmFlags() {
        List<Subtable> subs = List.of(
                new SpaRange(1, 0, 0, 0, RangeType.PERSISTENT_MEMORY.guid(), 0x100000000L, 3L << 30, 0x8008, 0),
                new MemoryMap(1, 0, 0, 1, 1, 1L << 30, 0, 0, 1, 3, MemoryMap.FLAG_NOT_ARMED | MemoryMap.FLAG_FLUSH_FAILED, 0),
                new MemoryMap(2, 1, 0, 1, 2, 1L << 30, 4096, 0, 1, 3, MemoryMap.FLAG_MAP_FAILED, 0),
                new MemoryMap(3, 2, 0, 1, 3, 1L << 30, 8192, 0, 1, 3, MemoryMap.FLAG_SAVE_FAILED | MemoryMap.FLAG_RESTORE_FAILED, 0),
                new ControlRegion(1, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0x301, 0, 0, 0, 0, 0, 0, 0, 0),
                new ControlRegion(2, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 8, 0x301, 0, 0, 0, 0, 0, 0, 0, 0),
                new ControlRegion(3, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0x301, 0, 0, 0, 0, 0, 0, 0, 0),
                new Capabilities(0, 0, 3, 0));
        NfitPlatform p = new NfitPlatform(NfitParser.parse(NfitWriter.write(NfitWriter.defaultHeader(), subs)),
                List.of(Region.Backing.file(Path.of("/tmp/x"), true)), List.of());
        Region r = p.regions().getFirst();
        assertEquals(3, r.interleaveWays());
        assertEquals(48L << 20, NdctlJson.defaultAlign(r), "16 MiB is not a multiple of 3 ways: times 3, as Linux");
        assertEquals(Region.PersistenceDomain.CPU_CACHE, r.persistenceDomain(), "highest capability 0 masks bit 1 off");
        Map<String, Object> d0 = NdctlJson.dimm(p.dimms().get(0), NdctlJson.Options.parse("-D"));
        assertEquals(List.of("dev", "id", "handle", "phys_id", "flag_failed_arm", "flag_failed_flush"), List.copyOf(d0.keySet()));
        assertEquals(List.of("dev", "id", "handle", "phys_id", "flag_failed_map"),
                List.copyOf(NdctlJson.dimm(p.dimms().get(1), NdctlJson.Options.parse("-D")).keySet()));
        assertEquals(List.of("dev", "id", "handle", "phys_id", "flag_failed_save", "flag_failed_restore"),
                List.copyOf(NdctlJson.dimm(p.dimms().get(2), NdctlJson.Options.parse("-D")).keySet()));
    }

    /** util/filter.c: a filter alone lists what it filters; the others must be related to it. */
    @Test
    void filtersAsNdctlsUtilFilter() {
        NfitPlatform two = EmulatedPlatform.fromConfig(List.of("pmem:64M:/tmp/pmem0", "pmem:32M:/tmp/pmem1"), "mem-ctrl",
                List.of()).platform();
        String region1 = """
                [
                  {
                    "dev":"region1",
                    "size":33554432,
                    "align":16777216,
                    "available_size":0,
                    "max_available_extent":0,
                    "type":"pmem",
                    "persistence_domain":"memory_controller"
                  }
                ]
                """;
        assertEquals(region1, NdctlJson.list(two, RAW, "-r region1"));
        assertEquals(region1, NdctlJson.list(two, RAW, "--region=1"));
        assertEquals(region1, NdctlJson.list(two, RAW, "-R -d nmem1"), "regions mapping the named NVDIMM");
        assertEquals(region1, NdctlJson.list(two, RAW, "-Rn 1.0"), "regions holding the named namespace");
        assertEquals("""
                [
                  {
                    "dev":"namespace1.0",
                    "mode":"raw",
                    "size":33554432,
                    "sector_size":512,
                    "blockdev":"pmem1"
                  }
                ]
                """, NdctlJson.list(two, RAW, "-N -r region1"), "-N given: -r only filters");
        assertEquals(NdctlJson.list(two, RAW, "-N -r region1"), NdctlJson.list(two, RAW, "-n namespace1.0"));
        assertEquals(NdctlJson.list(two, RAW, "-N -r region1"), NdctlJson.list(two, RAW, "-N -m raw -d 1"));
        assertEquals("""
                [
                  {
                    "dev":"nmem1",
                    "id":"8680-57341200",
                    "handle":2,
                    "phys_id":0
                  }
                ]
                """, NdctlJson.list(two, RAW, "-d 1"));
        assertEquals(NdctlJson.list(two, RAW, "-d 1"), NdctlJson.list(two, RAW, "-D -r region1"));
        assertEquals(NdctlJson.list(two, RAW, "-B"), NdctlJson.list(two, RAW, "-b ACPI.NFIT"));
        assertEquals("", NdctlJson.list(two, RAW, "-b ndbus1"));
        assertEquals("", NdctlJson.list(two, RAW, "-R -t blk"));
        assertEquals("", NdctlJson.list(two, RAW, "-m fsdax"));
        assertEquals("unknown type \"disk\" must be \"pmem\" or \"blk\"",
                assertThrows(IllegalArgumentException.class, () -> NdctlJson.Options.parse("-t disk")).getMessage());
        assertEquals("invalid mode: 'memoryy'",
                assertThrows(IllegalArgumentException.class, () -> NdctlJson.Options.parse("-m memoryy")).getMessage());
        assertEquals("switch `r' requires a value",
                assertThrows(NdctlJson.UsageException.class, () -> NdctlJson.Options.parse("-R -r")).getMessage());
    }

    @Test
    void optionsAreNdctls() {
        assertEquals(new NdctlJson.Options(false, false, false, true, false, false, 0), NdctlJson.Options.parse(""));
        assertEquals(new NdctlJson.Options(false, true, true, false, true, true, 0), NdctlJson.Options.parse("--dimms -RMu"));
        assertEquals(new NdctlJson.Options(false, false, false, true, true, false, 1), NdctlJson.Options.parse("-v"));
        assertEquals(new NdctlJson.Options(true, true, true, true, true, false, 2), NdctlJson.Options.parse("-v --verbose"));
        assertEquals(new NdctlJson.Options(false, false, true, true, true, false, 1), NdctlJson.Options.parse("-Rv"));
        assertEquals("unknown switch `C'", assertThrows(IllegalArgumentException.class, () -> NdctlJson.Options.parse("-RC"))
                .getMessage());
        assertEquals(NdctlJson.list(ONE, RAW, "-RDN"), NdctlJson.list(ONE, RAW, "-RDN -F -H -X -i -c"),
                "no firmware, health, device-dax, idle or disabled devices to add");
        assertEquals("", NdctlJson.list(ONE, RAW, "-X"), "-X alone: devdax namespaces only");
        assertEquals("unknown option `frob'", assertThrows(IllegalArgumentException.class,
                () -> NdctlJson.Options.parse("--frob")).getMessage());
        assertEquals("unknown parameter \"region0\"", assertThrows(IllegalArgumentException.class,
                () -> NdctlJson.Options.parse("-R region0")).getMessage());
        assertEquals("", NdctlJson.list(ONE, NamespaceInfo.NONE, "-N"), "nothing to list prints nothing, as ndctl");
    }
}
