package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.dmstack.nvdimm.Region;
import org.dmstack.pmem.Pmem;
import org.dmstack.pmem.PmemDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path: an emulated platform (two persistent NVDIMMs and a volatile range, like QEMU's
 * -device nvdimm) becomes an NFIT binary, is parsed back into regions, and the pmem driver makes a
 * device per region with the write caches DESIGN.md asks for; ndctl list describes them, and
 * errors injected on the platform reach the devices' bad blocks.
 */
class PmemEndToEndTest {
    @TempDir
    Path dir;

    @Test
    void emulatedPlatformGivesPmemDevicesWithTheRightSizesAndWriteCaches() {
        EmulatedPlatform emulated = EmulatedPlatform.fromConfig(
                List.of("pmem:16M:" + dir.resolve("nvdimm0"), "pmem:32M:" + dir.resolve("nvdimm1"), "volatile:8M"), "mem-ctrl", List.of());
        NfitPlatform platform = emulated.platform();
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        try (Pmem pmem = new Pmem(registry)) {
            platform.addMediaErrorListener(pmem);
            for (Region r : platform.regions()) pmem.addRegion(r);

            BlockDevice p0 = registry.lookup("pmem0"), p1 = registry.lookup("pmem1"), p2 = registry.lookup("pmem2");
            assertEquals("259:0 259:1 259:2", p0.devt() + " " + p1.devt() + " " + p2.devt());
            assertEquals(List.of(16L << 20, 32L << 20, 8L << 20), List.of(p0.sizeBytes(), p1.sizeBytes(), p2.sizeBytes()));
            for (BlockDevice d : List.of(p0, p1, p2)) assertEquals("write back", d.attributes().read("queue/write_cache"), d.name());
            assertEquals("1", p0.attributes().read("dax/write_cache"), "persistent, ADR only: CPU caches must be written back");
            assertEquals("1", p1.attributes().read("dax/write_cache"));
            assertEquals("0", p2.attributes().read("dax/write_cache"), "volatile: nothing to flush");

            byte[] data = new byte[8192];
            Arrays.fill(data, (byte) 0x3c);
            assertEquals(data.length, FsDax.write(p1.dax(), 1 << 20, IovIter.iovec(data)));
            byte[] back = new byte[8192];
            Bio read = Bio.read((1 << 20) / 512, MemorySegment.ofArray(back));
            p1.submit(read);
            assertEquals(BlkStatus.OK, read.await());
            assertArrayEquals(data, back);

            platform.injectError("region1", 4096, 512);
            assertEquals("8 1", p1.attributes().read("badblocks"));
            Bio bad = Bio.read(8, Arena.ofAuto().allocate(512));
            p1.submit(bad);
            assertEquals(BlkStatus.Code.IOERR, bad.await().code());
            platform.clearError("region1", 4096, 512);
            assertEquals("", p1.attributes().read("badblocks"));

            NamespaceInfo namespaces = region -> {
                PmemDevice d = pmem.deviceOf(region.name());
                return d == null ? List.of() : List.of(NamespaceInfo.Namespace.raw(region, d.name()));
            };
            assertEquals("""
                    [
                      {
                        "dev":"namespace0.0",
                        "mode":"raw",
                        "size":16777216,
                        "sector_size":512,
                        "blockdev":"pmem0"
                      },
                      {
                        "dev":"namespace1.0",
                        "mode":"raw",
                        "size":33554432,
                        "sector_size":512,
                        "blockdev":"pmem1"
                      },
                      {
                        "dev":"namespace2.0",
                        "mode":"raw",
                        "size":8388608,
                        "sector_size":512,
                        "blockdev":"pmem2"
                      }
                    ]
                    """, NdctlJson.list(platform, namespaces, "-N"));
        }
    }

    @Test
    void cpuCachePersistenceTurnsTheDaxWriteCacheOffEverywhere() {
        NfitPlatform platform = EmulatedPlatform.fromConfig(List.of("pmem:16M:" + dir.resolve("n0")), "cpu", List.of()).platform();
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        try (Pmem pmem = new Pmem(registry)) {
            pmem.addRegion(platform.regions().getFirst());
            assertEquals("0", registry.lookup("pmem0").attributes().read("dax/write_cache"));
            assertEquals("write back", registry.lookup("pmem0").attributes().read("queue/write_cache"));
        }
    }

    @Test
    void scrubResultsAreBadBlocksFromTheStart() {
        NfitPlatform platform = EmulatedPlatform.fromConfig(List.of("pmem:16M:" + dir.resolve("n0")), "mem-ctrl",
                List.of("region0:1M:4K")).platform();
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        try (Pmem pmem = new Pmem(registry)) {
            pmem.addRegion(platform.regions().getFirst());
            assertEquals("2048 8", registry.lookup("pmem0").attributes().read("badblocks"));
        }
    }

    /**
     * nfit-interleaved.asl compiled by iasl: nmem0 is not armed, so region0 is read-only
     * (nd_region_create) and pmem0 with it (nvdimm_check_and_set_ro); writing the region's read_only
     * makes the disk follow, as read_only_store's NVDIMM_REVALIDATE_REGION does.
     */
    @Test
    void anUnarmedNvdimmMakesThePmemDiskReadOnlyUntilReadOnlyIsWritten() throws Exception {
        Nfit nfit = NfitParser.parse(Iasl.require().compile(dir, "t", IaslTest.resource("nfit-interleaved.asl")));
        NfitPlatform platform = new NfitPlatform(nfit, List.of(Region.Backing.file(dir.resolve("pmem"), true)), List.of());
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        try (Pmem pmem = new Pmem(registry)) {
            platform.addMediaErrorListener(pmem);
            BlockDevice pmem0 = pmem.addRegion(platform.regions().getFirst()).device();
            assertEquals("1", pmem0.attributes().read("ro"));
            Bio write = Bio.write(0, Arena.ofAuto().allocate(4096).fill((byte) 0x5a));
            pmem0.submit(write);
            assertEquals("IOERR: Trying to write to read-only block-device pmem0", write.await().toString());
            byte[] back = new byte[4096];
            Bio read = Bio.read(0, MemorySegment.ofArray(back));
            pmem0.submit(read);
            assertEquals(BlkStatus.OK, read.await());
            assertArrayEquals(new byte[4096], back, "the refused write changed nothing");

            platform.setReadOnly("region0", false);
            assertEquals("0", pmem0.attributes().read("ro"));
            Bio again = Bio.write(0, Arena.ofAuto().allocate(4096).fill((byte) 0x5a));
            pmem0.submit(again);
            assertEquals(BlkStatus.OK, again.await());
            platform.setReadOnly("region0", true);
            assertEquals("1", pmem0.attributes().read("ro"));
        }
    }
}
