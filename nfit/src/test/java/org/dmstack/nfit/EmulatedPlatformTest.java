package org.dmstack.nfit;

import org.dmstack.nvdimm.MediaErrorListener;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;

/** An emulated platform (QEMU-style NVDIMMs) becomes the right regions, through its NFIT binary. */
class EmulatedPlatformTest {
    private static final List<String> TWO_PMEM_ONE_VOLATILE =
            List.of("pmem:4G:/var/lib/dmstack/pmem0", "pmem:4G:/var/lib/dmstack/pmem1", "volatile:1G");

    @Test
    void twoPersistentNvdimmsAndOneVolatileRangeWithMemoryControllerPersistence() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(TWO_PMEM_ONE_VOLATILE, "mem-ctrl", List.of());
        List<Region> regions = e.regions();
        assertEquals(3, regions.size());

        Region r0 = regions.get(0);
        assertEquals("region0", r0.name());
        assertEquals(0, r0.id());
        assertEquals(Region.Type.PERSISTENT, r0.type());
        assertEquals(4L << 30, r0.size());
        assertEquals(0x1_0000_0000L, r0.spaStart());
        assertEquals(Region.Backing.file(Path.of("/var/lib/dmstack/pmem0"), true), r0.backing());
        assertEquals(Region.PersistenceDomain.MEMORY_CONTROLLER, r0.persistenceDomain());
        assertTrue(r0.needsCacheWriteback(), "ADR only: CPU caches must be written back");
        assertEquals(1, r0.interleaveWays());
        assertEquals(List.of(new Region.Mapping("nmem0", 1, 0, 4L << 30, 0)), r0.mappings());
        assertEquals(List.of(), r0.flushHints(), "QEMU emits no flush hint subtables");
        assertFalse(r0.hasFlush());

        Region r1 = regions.get(1);
        assertEquals(0x2_0000_0000L, r1.spaStart());
        assertEquals(Region.Type.PERSISTENT, r1.type());
        assertTrue(r1.needsCacheWriteback());
        assertEquals(List.of(new Region.Mapping("nmem1", 2, 0, 4L << 30, 0)), r1.mappings());

        Region r2 = regions.get(2);
        assertEquals("region2", r2.name());
        assertEquals(Region.Type.VOLATILE, r2.type());
        assertEquals(1L << 30, r2.size());
        assertEquals(0x3_0000_0000L, r2.spaStart());
        assertTrue(r2.backing().isAnonymous());
        assertFalse(r2.needsCacheWriteback(), "volatile memory: no write cache to flush");
        assertEquals(0, r2.isetId());
    }

    @Test
    void cpuPersistenceTurnsTheDaxWriteCacheOff() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(TWO_PMEM_ONE_VOLATILE, "cpu", List.of());
        for (Region r : e.regions()) {
            assertEquals(Region.PersistenceDomain.CPU_CACHE, r.persistenceDomain());
            assertFalse(r.needsCacheWriteback(), r.name());
        }
    }

    @Test
    void noPersistenceSettingMeansDomainNone() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(TWO_PMEM_ONE_VOLATILE, "", List.of());
        Region r0 = e.regions().getFirst();
        assertEquals(Region.PersistenceDomain.NONE, r0.persistenceDomain());
        assertTrue(r0.needsCacheWriteback());
        assertTrue(e.platform().nfit().capabilities().isEmpty(), "no capabilities subtable, as QEMU without nvdimm-persistence");
    }

    @Test
    void ndctlListRegions() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(TWO_PMEM_ONE_VOLATILE, "mem-ctrl", List.of());
        assertEquals("""
                [
                  {
                    "dev":"region0",
                    "size":4294967296,
                    "align":16777216,
                    "available_size":0,
                    "max_available_extent":0,
                    "type":"pmem",
                    "persistence_domain":"memory_controller"
                  },
                  {
                    "dev":"region1",
                    "size":4294967296,
                    "align":16777216,
                    "available_size":0,
                    "max_available_extent":0,
                    "type":"pmem",
                    "persistence_domain":"memory_controller"
                  },
                  {
                    "dev":"region2",
                    "size":1073741824,
                    "align":16777216,
                    "available_size":0,
                    "max_available_extent":0,
                    "type":"pmem",
                    "persistence_domain":"memory_controller"
                  }
                ]
                """, NdctlJson.list(e.platform(), NamespaceInfo.NONE, "-R"));
    }

    /**
     * QEMU 7.2's nvdimm_build_device_structure: per NVDIMM, in slot order, an SPA range
     * (nvdimm_build_structure_spa), a memory-device map (_memdev: handle slot+1, physical id left
     * 0, one interleave way) and a control region (_dcr: Intel vendor, device 1, revision 1, serial
     * 0x123456+slot, format 0x301); then the platform capabilities only with a persistence
     * (_caps, highest capability 31 - clz32(capabilities)). No flush hints.
     */
    @Test
    void subtablesAreWhatQemuBuilds() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(List.of("pmem:64M:/data/a", "pmem:32M:/data/b"), "mem-ctrl", List.of());
        java.util.UUID pm = RangeType.PERSISTENT_MEMORY.guid();
        assertEquals(List.of(
                new Subtable.SpaRange(2, 3, 0, 0, pm, 0x1_0000_0000L, 64L << 20, 0x8008, 0),
                new Subtable.MemoryMap(1, 0, 0, 2, 3, 64L << 20, 0, 0, 0, 1, 0, 0),
                new Subtable.ControlRegion(3, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0x123456, 0x301, 0, 0, 0, 0, 0, 0, 0, 0),
                new Subtable.SpaRange(4, 3, 0, 0, pm, 0x1_0400_0000L, 32L << 20, 0x8008, 0),
                new Subtable.MemoryMap(2, 0, 0, 4, 5, 32L << 20, 0, 0, 0, 1, 0, 0),
                new Subtable.ControlRegion(5, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0x123457, 0x301, 0, 0, 0, 0, 0, 0, 0, 0),
                new Subtable.Capabilities(1, 0, Subtable.Capabilities.MEMORY_FLUSH, 0)), e.subtables());
        List<Subtable> none = EmulatedPlatform.fromConfig(List.of("pmem:64M:/data/a"), "", List.of()).subtables();
        assertEquals(List.of(Subtable.SpaRange.class, Subtable.MemoryMap.class, Subtable.ControlRegion.class),
                none.stream().map(Object::getClass).toList());
    }

    @Test
    void scrubResultsBecomeRegionPoison() {
        EmulatedPlatform e = EmulatedPlatform.fromConfig(List.of("pmem:16M:/tmp/p0", "pmem:16M:/tmp/p1"), "",
                List.of("0x100000200:512", "region1:8K:4K", "0x100fff000:0x2000", "0x900000000:4096"));
        List<Region> regions = e.regions();
        assertEquals(List.of(new Region.PoisonRange(0x200, 512), new Region.PoisonRange(0xfff000, 0x1000)),
                regions.get(0).poison());
        assertEquals(List.of(new Region.PoisonRange(0, 0x1000), new Region.PoisonRange(0x2000, 0x1000)),
                regions.get(1).poison(), "a range crossing two regions is split; one outside all regions is skipped");
    }

    @Test
    void injectAndClearErrorsReachListeners() {
        NfitPlatform p = EmulatedPlatform.fromConfig(List.of("pmem:16M:/tmp/p0"), "", List.of()).platform();
        List<String> heard = new ArrayList<>();
        p.addMediaErrorListener(new MediaErrorListener() {
            @Override
            public void poisonInjected(Region region, Region.PoisonRange range) {
                heard.add("inject " + region.name() + " " + range.offset() + "+" + range.length() + " " + region.poison().size());
            }

            @Override
            public void poisonCleared(Region region, Region.PoisonRange range) {
                heard.add("clear " + region.name() + " " + range.offset() + "+" + range.length() + " " + region.poison().size());
            }
        });
        Region r = p.injectError("region0", 8192, 4096);
        assertEquals(List.of(new Region.PoisonRange(8192, 4096)), r.poison());
        assertEquals(r, p.regions().getFirst());
        p.clearError("region0", 8192, 1024);
        assertEquals(List.of(new Region.PoisonRange(9216, 3072)), p.regions().getFirst().poison());
        p.clearError("region0", 0, 16 << 20);
        assertTrue(p.regions().getFirst().poison().isEmpty());
        assertEquals(List.of("inject region0 8192+4096 1", "clear region0 8192+1024 1", "clear region0 0+16777216 0"), heard);
        assertThrows(IllegalArgumentException.class, () -> p.injectError("region0", 16 << 20, 1));
        assertThrows(IllegalArgumentException.class, () -> p.injectError("region9", 0, 1));
    }

    @Test
    void configurationErrorsAreSentences() {
        assertEquals("Invalid NVDIMM 'pmem:4G': a persistent NVDIMM needs a backing file (pmem:SIZE:PATH)",
                assertThrows(IllegalArgumentException.class,
                        () -> EmulatedPlatform.fromConfig(List.of("pmem:4G"), "", List.of())).getMessage());
        assertEquals("Invalid NVDIMM 'flash:4G:/x': kind 'flash' is not pmem or volatile",
                assertThrows(IllegalArgumentException.class,
                        () -> EmulatedPlatform.fromConfig(List.of("flash:4G:/x"), "", List.of())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> EmulatedPlatform.fromConfig(List.of("volatile:1000"), "", List.of())).getMessage()
                .contains("must be a positive multiple of the 4096-byte page"));
        assertEquals("Invalid persistence 'adr': expected mem-ctrl or cpu (QEMU's nvdimm-persistence), or none",
                assertThrows(IllegalArgumentException.class,
                        () -> EmulatedPlatform.fromConfig(List.of("volatile:1G"), "adr", List.of())).getMessage());
        assertEquals("Invalid poison 'region3:0:512': there is no region3",
                assertThrows(IllegalArgumentException.class,
                        () -> EmulatedPlatform.fromConfig(List.of("volatile:1G"), "", List.of("region3:0:512"))).getMessage());
    }

    @Test
    void nvdimmSpecRoundTrips() {
        EmulatedPlatform.Nvdimm d = EmulatedPlatform.Nvdimm.parse("pmem:2G:/data/pmem file");
        assertEquals(new EmulatedPlatform.Nvdimm(EmulatedPlatform.Kind.PERSISTENT, 2L << 30, Path.of("/data/pmem file")), d);
        assertEquals(d, EmulatedPlatform.Nvdimm.parse(d.spec()));
    }

    @Test
    void regionAndDimmNumbersCanStartElsewhere() {
        NfitPlatform p = EmulatedPlatform.fromConfig(TWO_PMEM_ONE_VOLATILE, "", List.of()).platform(3, 5);
        assertEquals(List.of("region3", "region4", "region5"), p.regions().stream().map(Region::name).toList());
        assertEquals(List.of("nmem5", "nmem6", "nmem7"), p.dimms().stream().map(NfitPlatform.Dimm::name).toList());
        assertEquals("nmem5", p.regions().getFirst().mappings().getFirst().dimm());
    }
}
