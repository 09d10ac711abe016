package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.memory.MappingPool;
import org.dmstack.memory.Memory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A driver with a MappingPool leaves its devices' file mappings there, and the next driver over
 * the same file and size takes them back (a bundle update), with what was written and not forced.
 */
class PmemHandoverTest {
    private static final long SIZE = 4 << 20;

    @TempDir
    Path dir;
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final MappingPool pool = new MappingPool(MappingPool.KEEP_MILLIS);

    @Test
    void theNextDriverTakesTheMappingBackWithItsDataAndItsUnforcedWrites() {
        Path file = dir.resolve("pmem.img");
        // Sector 4096 is in another 64 KiB chunk than sector 0; neither write is flushed.
        long pfn = firstDriverWrites(file, new Write(0, Io.pattern(4096, 1)), new Write(4096, Io.pattern(4096, 2)));
        assertNull(registry.lookup("pmem0"), "the device is gone with its driver");
        assertEquals(1, pool.size(), "its mapping waits for the next driver");

        try (Pmem next = new Pmem(registry, pool)) {
            PmemDevice d = next.create(PmemConfig.file(file, SIZE, false));
            assertEquals(0, pool.size());
            assertEquals(pfn, d.pfn(), "the same memory, not a new mapping");
            assertArrayEquals(Io.pattern(4096, 1), Io.read(d.device(), 0, 4096));
            long forces = Memory.forces();
            assertEquals(BlkStatus.OK, Io.submit(d.device(), Bio.flush()));
            assertEquals(forces + 2, Memory.forces(), "the FLUSH forces both chunks the first device wrote and did not force");
        }
    }

    @Test
    void anotherSizeMapsTheFileAgainAndKeepsItsContents() {
        Path file = dir.resolve("pmem.img");
        long pfn = firstDriverWrites(file, new Write(8, Io.pattern(4096, 3)));
        long forces = Memory.forces();
        try (Pmem next = new Pmem(registry, pool)) {
            PmemDevice d = next.create(PmemConfig.file(file, 2 * SIZE, true));
            assertEquals(0, pool.size(), "the kept mapping of the old size is unmapped");
            assertEquals(forces + 1, Memory.forces(), "after forcing what the first device left unforced: the new device's FLUSH knows nothing of it");
            assertNotEquals(pfn, d.pfn());
            assertArrayEquals(Io.pattern(4096, 3), Io.read(d.device(), 8, 4096));
        }
    }

    private record Write(long sector, byte[] data) {}

    /** A driver with the pool makes a device over {@code file}, writes, and closes; returns the device's pfn. */
    private long firstDriverWrites(Path file, Write... writes) {
        try (Pmem first = new Pmem(registry, pool)) {
            PmemDevice d = first.create(PmemConfig.file(file, SIZE, true));
            for (Write w : writes) Io.write(d.device(), w.sector(), w.data());
            return d.pfn();
        }
    }

    @Test
    void aDriverWithoutAPoolUnmaps() {
        long forces;
        try (Pmem plain = new Pmem(registry)) {
            PmemDevice d = plain.create(PmemConfig.file(dir.resolve("pmem.img"), SIZE, true));
            Io.write(d.device(), 0, Io.pattern(4096, 4));
            forces = Memory.forces();
        }
        assertEquals(forces + 1, Memory.forces(), "the unflushed write is forced before the unmap: a later device's FLUSH could not name it");
        assertEquals(0, pool.size());
        assertEquals(0, MappingPool.shared().size());
    }
}
