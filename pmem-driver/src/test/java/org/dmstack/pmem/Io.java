package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.nvdimm.Region;

/** Test helpers: synchronous bios, patterns, regions. */
final class Io {
    private Io() {}

    static BlkStatus submit(BlockDevice dev, Bio bio) {
        dev.submit(bio);
        return bio.await();
    }

    static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (seed + i * 31 + (i >> 9));
        return b;
    }

    static byte[] read(BlockDevice dev, long sector, int bytes) {
        MemorySegment buf = MemorySegment.ofArray(new byte[bytes]);
        assertEquals(BlkStatus.OK, submit(dev, Bio.read(sector, buf)));
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    static BlkStatus tryRead(BlockDevice dev, long sector, int bytes) {
        return submit(dev, Bio.read(sector, MemorySegment.ofArray(new byte[bytes])));
    }

    static void write(BlockDevice dev, long sector, byte[] data, BioFlag... flags) {
        assertEquals(BlkStatus.OK, submit(dev, Bio.write(sector, MemorySegment.ofArray(data), flags)));
    }

    static Region region(int id, Region.Type type, long size, Region.Backing backing, Region.PersistenceDomain domain,
            List<Region.PoisonRange> poison) {
        return new Region("region" + id, id, type, 0x1_0000_0000L + id * 0x4000_0000L, size, backing, domain, 1, List.of(), List.of(), 0,
                poison);
    }

    static Region persistent(int id, Path file, long size) {
        return region(id, Region.Type.PERSISTENT, size, Region.Backing.file(file, true), Region.PersistenceDomain.MEMORY_CONTROLLER, List.of());
    }
}
