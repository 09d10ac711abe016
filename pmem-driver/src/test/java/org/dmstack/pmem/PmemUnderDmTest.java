package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.linear.LinearTargetType;
import org.dmstack.dm.stripe.StripedTargetType;
import org.dmstack.iov.IovIter;
import org.dmstack.units.Units;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pmem's bad blocks seen through dm-linear and dm-stripe, as 6.1 shows them: dm_dax_direct_access
 * clamps nr_pages to the target (and a stripe's chunk) before the device below is asked, so only a
 * bad block inside that clamp fails the mapping, and a recovery write reaches pmem through the
 * table (linear_dax_direct_access and stripe_dax_direct_access pass the mode down).
 */
class PmemUnderDmTest {
    @TempDir
    Path dir;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final Pmem pmem = new Pmem(registry);
    private final DeviceMapper dm = new DeviceMapper(registry);
    private PmemDevice pmem0, pmem1;

    @BeforeEach
    void setUp() {
        pmem0 = pmem.create(PmemConfig.file(dir.resolve("p0.img"), 1 << 20, true));
        pmem1 = pmem.create(PmemConfig.file(dir.resolve("p1.img"), 1 << 20, true));
        dm.targetTypes().register(new LinearTargetType());
        dm.targetTypes().register(new StripedTargetType());
    }

    @AfterEach
    void tearDown() {
        dm.close();
        pmem.close();
    }

    @Test
    void linearMapsUpToItsEndAndABadPageInsideFailsTheWholeExtent() {
        pmem0.injectError(3 * Units.PAGE_SECTORS, 1); // pmem0's page 3
        // dm pages 0..3 are pmem0's pages 2..5; dm pages 4.. are pmem1's.
        DaxDevice dax = dm.create("lin", "0 32 linear pmem0 16\n32 64 linear pmem1 0").disk().dax();
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> dax.directAccess(0, 8)).errno());
        assertEquals(1, dax.directAccess(0, 1).pages(), "pmem0's page 2 alone is fine");
        assertEquals(8, dax.directAccess(4, 100).pages(), "pmem1: clamped to the end of the second target");
        byte[] all = new byte[8 * Units.PAGE_SIZE];
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> FsDax.read(dax, 0, IovIter.iovec(all))).errno());

        // A write(2) over the bad page recovers it through the table, and the list on pmem0 loses it.
        byte[] fresh = Io.pattern(8 * Units.PAGE_SIZE, 5);
        assertEquals(fresh.length, FsDax.write(dax, 0, IovIter.iovec(fresh)));
        assertEquals("", pmem0.device().attributes().read("badblocks"));
        assertEquals(fresh.length, FsDax.read(dax, 0, IovIter.iovec(all)));
        assertArrayEquals(fresh, all);
    }

    @Test
    void stripedClampsToTheChunkSoABadPageInTheNextChunkDoesNotMatter() {
        // striped 2 16: dm pages 0-1 on pmem0's 0-1, pages 2-3 on pmem1's 0-1, pages 4-5 on pmem0's 2-3...
        pmem1.injectError(Units.PAGE_SECTORS, 1); // pmem1's page 1: dm page 3
        BlockDevice st = dm.create("st", "0 256 striped 2 16 pmem0 0 pmem1 0").disk();
        DaxDevice dax = st.dax();
        assertEquals(2, dax.directAccess(0, 100).pages(), "the first chunk, on pmem0");
        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> dax.directAccess(2, 2)).errno());
        assertEquals(1, dax.directAccess(2, 1).pages(), "pmem1's page 0 alone");
        byte[] buf = new byte[4 * Units.PAGE_SIZE];
        // fs-dax reads chunk by chunk: the first chunk is read, the second fails, the read stops short.
        assertEquals(2 * Units.PAGE_SIZE, FsDax.read(dax, 0, IovIter.iovec(buf)));
        assertEquals("8 1", pmem1.device().attributes().read("badblocks"));
    }

    /**
     * Neither pmem nor a table over it offers discard or write-zeroes (dm_table_supports_discards
     * needs every device to), so submit_bio_noacct refuses both at the mapped device: EOPNOTSUPP.
     */
    @Test
    void discardAndWriteZeroesThroughEitherTargetAreNotSupported() {
        for (String table : new String[] {"0 256 linear pmem0 0", "0 256 striped 2 16 pmem0 0 pmem1 0"}) {
            BlockDevice md = dm.create("t", table).disk();
            assertEquals("0", md.attributes().read("queue/discard_max_bytes"));
            assertEquals("0", md.attributes().read("queue/write_zeroes_max_bytes"));
            assertEquals("NOTSUPP: " + md.name() + ": DISCARD is not supported (discard_max_bytes is 0)",
                    Io.submit(md, org.dmstack.block.Bio.discard(0, 4096)).toString());
            assertEquals("NOTSUPP: " + md.name() + ": WRITE_ZEROES is not supported (write_zeroes_max_bytes is 0)",
                    Io.submit(md, org.dmstack.block.Bio.writeZeroes(0, 4096)).toString());
            dm.remove("t");
        }
    }
}
