package org.dmstack.dm.stripe;

import static org.dmstack.testkit.MockDevices.daxDriver;
import static org.dmstack.testkit.MockDevices.device;
import static org.dmstack.testkit.MockDevices.line;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.ArgumentMatchers.same;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/**
 * The striped target against mocked devices: how to unit-test a target without any driver. A
 * {@link TargetContext} from testkit's {@code MockDevices.line} stands for the table line and hands
 * out devices mocked with {@code MockDevices.device}.
 */
class StripedTargetTypeTest {
    private final BlockDevice ram0 = device("ram0", new DevT(1, 0), 4096);
    private final BlockDevice ram1 = device("ram1", new DevT(1, 1), 4096);
    private final BlockDevice ram2 = device("ram2", new DevT(1, 2), 4096);
    private final StripedTargetType type = new StripedTargetType();

    /** 2 stripes of 16-sector chunks: chunks 0, 2, 4... on ram0 from 0; chunks 1, 3, 5... on ram1 from 64. */
    private Target twoStripes() throws TargetException {
        return type.construct(line(0, 1024, "2 16 ram0 0 ram1 64", ram0, ram1));
    }

    private static Bio read(long sector, int sectors) {
        return Bio.read(sector, MemorySegment.ofArray(new byte[sectors * 512]));
    }

    private static void assertMapped(Target target, long sector, BlockDevice device, long deviceSector) {
        Bio bio = read(sector, 1);
        assertEquals(MapResult.REMAPPED, target.map(bio));
        assertSame(device, bio.device(), "device of sector " + sector);
        assertEquals(deviceSector, bio.sector(), "sector of sector " + sector);
    }

    @Test
    void chunksAreDealtToTheStripesInTurn() throws TargetException {
        Target striped = twoStripes();
        assertMapped(striped, 0, ram0, 0);
        assertMapped(striped, 15, ram0, 15);
        assertMapped(striped, 16, ram1, 64);
        assertMapped(striped, 33, ram0, 17);
        assertMapped(striped, 50, ram1, 64 + 18);
        assertEquals(16, striped.maxIoLen()); // so core never hands map a bio that leaves its chunk
    }

    @Test
    void chunkSizesNeedNotBePowersOfTwo() throws TargetException {
        // 3 stripes of 12 sectors, the target starting at sector 100 of the mapped device.
        Target striped = type.construct(line(100, 3 * 12 * 4, "3 12 ram0 0 ram1 0 ram2 8", ram0, ram1, ram2));
        assertMapped(striped, 100 + 11, ram0, 11);
        assertMapped(striped, 100 + 12, ram1, 0);
        assertMapped(striped, 100 + 24 + 5, ram2, 8 + 5);
        assertMapped(striped, 100 + 36 + 1, ram0, 12 + 1);
        assertEquals(12, striped.maxIoLen());
    }

    @Test
    void aFlushIsSentToEveryStripe() throws TargetException {
        Target striped = type.construct(line(0, 96, "3 8 ram0 0 ram1 0 ram2 0", ram0, ram1, ram2));
        assertEquals(3, striped.numFlushBios());
        BlockDevice[] expected = {ram0, ram1, ram2};
        for (int n = 0; n < 3; n++) {
            Bio flush = Bio.flush();
            flush.setTargetBioNr(n);
            assertEquals(MapResult.REMAPPED, striped.map(flush));
            assertSame(expected[n], flush.device());
        }
    }

    @Test
    void aDiscardIsSplitIntoOneRangePerStripe() throws TargetException {
        Target striped = twoStripes();
        assertEquals(2, striped.numDiscardBios());
        assertEquals(2, striped.numWriteZeroesBios());
        // Sectors 8..55: ram0 holds 8..15 and 32..47 (its 8..31), ram1 holds 16..31 and 48..55 (its 0..23).
        Bio first = Bio.discard(8, 48 * 512);
        Bio second = Bio.discard(8, 48 * 512);
        second.setTargetBioNr(1);

        assertEquals(MapResult.REMAPPED, striped.map(first));
        assertSame(ram0, first.device());
        assertEquals(8, first.sector());
        assertEquals(24, first.sectors());
        assertEquals(MapResult.REMAPPED, striped.map(second));
        assertSame(ram1, second.device());
        assertEquals(64, second.sector());
        assertEquals(24, second.sectors());
    }

    @Test
    void aStripeWithNothingOfTheRangeEndsItsCloneWithoutIo() throws TargetException {
        Target striped = twoStripes();
        Bio zeroes = Bio.writeZeroes(18, 8 * 512); // all in chunk 1, on ram1
        // clone 0 is for ram0

        assertEquals(MapResult.SUBMITTED, striped.map(zeroes));
        assertEquals(BlkStatus.OK, zeroes.await());
        assertEquals(null, zeroes.device());
    }

    @Test
    void tableAndStatusAreWhatDmsetupPrints() throws TargetException {
        Target striped = twoStripes();
        assertEquals("2 16 1:0 0 1:1 64", striped.status(StatusType.TABLE));
        assertEquals("2 1:0 1:1 1 AA", striped.status(StatusType.INFO));
    }

    @Test
    void aStripeTurnsDOnceItsDeviceFailedAnIo() throws TargetException {
        Target striped = twoStripes();
        Bio failed = read(16, 1);
        striped.map(failed); // to ram1
        Bio unsupported = read(0, 1);
        striped.map(unsupported); // to ram0

        striped.endIo(unsupported, BlkStatus.notsupp("no"));
        assertEquals("2 1:0 1:1 1 AA", striped.status(StatusType.INFO));
        striped.endIo(failed, BlkStatus.ioerr("media error"));
        assertEquals("2 1:0 1:1 1 AD", striped.status(StatusType.INFO));
    }

    @Test
    void usesWidthSectorsOfEachDeviceFromItsOffset() throws TargetException {
        StringBuilder visited = new StringBuilder();
        twoStripes().iterateDevices((device, start, length) -> visited.append(device.name()).append(' ').append(start).append(' ').append(length).append(';'));
        assertEquals("ram0 0 512;ram1 64 512;", visited.toString());
    }

    @Test
    void ioHintsAreOneChunkAndOneRow() throws TargetException {
        QueueLimits limits = QueueLimits.stacking();
        type.construct(line(0, 3 * 24 * 2, "3 24 ram0 0 ram1 0 ram2 0", ram0, ram1, ram2)).ioHints(limits);
        assertEquals(24 * 512, limits.ioMin());
        assertEquals(3 * 24 * 512, limits.ioOpt());
    }

    @Test
    void ioHintsWrapAsLinuxsUnsignedIntDoes() throws TargetException {
        // dm-stripe.c 6.1, stripe_io_hints: "unsigned int chunk_size = sc->chunk_size << SECTOR_SHIFT;"
        // then blk_limits_io_opt(limits, chunk_size * sc->stripes): 1 GiB chunks in a row of 4 make 0.
        QueueLimits limits = QueueLimits.stacking();
        type.construct(line(0, 4L * 2097152, "4 2097152 ram0 0 ram1 0 ram2 0 ram0 0", ram0, ram1, ram2)).ioHints(limits);
        assertEquals(1L << 30, limits.ioMin());
        assertEquals(0, limits.ioOpt());
        // A 4 GiB chunk is 0 bytes in an unsigned int: io_min falls back to the physical block size.
        limits = QueueLimits.stacking();
        type.construct(line(0, 8388608, "1 8388608 ram0 0", ram0)).ioHints(limits);
        assertEquals(512, limits.ioMin());
        assertEquals(0, limits.ioOpt());
    }

    @Test
    void refusesWhatLinuxRefuses() {
        assertEquals("Not enough arguments", refused(1024, ""));
        assertEquals("Not enough arguments", refused(1024, "2"));
        for (String count : List.of("0", "-1", "x", "2x", "4294967296")) {
            assertEquals("Invalid stripe count", refused(1024, count + " 16 ram0 0 ram1 0"), count);
        }
        for (String chunk : List.of("0", "-8", "8k", "0x10", "4294967296")) {
            assertEquals("Invalid chunk_size", refused(1024, "2 " + chunk + " ram0 0 ram1 0"), chunk);
        }
        assertEquals("Target length not divisible by number of stripes", refused(1023, "2 16 ram0 0 ram1 0"));
        assertEquals("Target length not divisible by chunk size", refused(1000, "2 16 ram0 0 ram1 0"));
        assertEquals("Not enough destinations specified", refused(1024, "2 16 ram0 0"));
        assertEquals("Not enough destinations specified", refused(1024, "2 16 ram0 0 ram1"));
        assertEquals("Not enough destinations specified", refused(1024, "2 16 ram0 0 ram1 0 ram2 0"));
        assertEquals("Couldn't parse stripe destination", refused(1024, "2 16 ram0 0 ram1 x"));
        assertEquals("Couldn't parse stripe destination", refused(1024, "2 16 ram0 -1 ram1 0"));
        assertEquals("Couldn't parse stripe destination: ram9: No such device", refused(1024, "2 16 ram0 0 ram9 0"));
    }

    @Test
    void acceptsWhatLinuxAccepts() throws TargetException {
        // kstrtouint takes a leading '+' and leading zeros; a chunk may be a single sector.
        assertEquals("2 1 1:0 0 1:1 0", type.construct(line(1024, 1024, "+2 001 ram0 0 1:1 0", ram0, ram1)).status(StatusType.TABLE));
    }

    private String refused(long length, String args) {
        return assertThrows(TargetException.class, () -> type.construct(line(0, length, args, ram0, ram1, ram2))).getMessage();
    }

    // ---- DAX: real DaxDevices over mocked dax_operations ----

    @Test
    void daxCallsGoToTheStripeAndPageThatHoldThePage() throws TargetException {
        MemorySegment memory = MemorySegment.ofArray(new byte[4096]);
        DaxOperations ops0 = mock(DaxOperations.class), ops1 = daxDriver(memory, 9, 1);
        when(ram0.dax()).thenReturn(new DaxDevice("ram0", ops0, () -> 512, true));
        DaxDevice dax1 = new DaxDevice("ram1", ops1, () -> 512, true);
        when(ram1.dax()).thenReturn(dax1);
        Target striped = twoStripes();
        IovIter iter = IovIter.kvec(MemorySegment.ofArray(new byte[4096]));
        // Mapped page 7 is sector 56, in chunk 3 (ram1, its second chunk): ram1 sector 64 + 16 + 8, page 11.

        DaxMapping map = new DaxMapping();
        striped.directAccess(7, 1, map);
        verify(ops1).directAccess(eq(11L), eq(1L), same(map));
        assertSame(memory, map.memory());
        // Copies and flushes go to the stripe's device, at its page.
        dax1.copyFromIter(map, 0, 4096, iter);
        verify(ops1).copyFromIter(eq(11L), eq(memory), eq(0L), eq(4096L), any());
        dax1.copyToIter(map, 0, 4096, iter);
        verify(ops1).copyToIter(eq(11L), eq(memory), eq(0L), eq(4096L), any());
        dax1.flush(map, 0, 4096);
        verify(ops1).flush(11, memory, 0, 4096);
        verifyNoInteractions(ops0);
        assertTrue(striped.supportsDax());
    }

    @Test
    void daxMappingsAndSoCopiesStopWhereCoreClampsThem() throws TargetException {
        DaxDevice dax = new DaxDevice("ram0", daxDriver(MemorySegment.ofArray(new byte[8 * 4096]), 9, 8), () -> 512, true);
        when(ram0.dax()).thenReturn(dax);
        Target striped = twoStripes();

        DaxMapping map = new DaxMapping();
        striped.directAccess(1, 1, map); // chunk 0 is two pages: core asks its second page for one
        assertEquals(1, map.pages(), "no more than asked for, though the device had eight");
        assertEquals("ram0: 8192 bytes at 0 do not fit the 4096 mapped at page 1",
                assertThrows(DaxException.class, () -> dax.copyToIter(map, 0, 8192, IovIter.kvec(MemorySegment.ofArray(new byte[8192])))).getMessage());
    }

    @Test
    void daxFailsCleanlyWhereAPageIsNotAPageOnItsDeviceOrTheDeviceHasNoDax() throws TargetException {
        when(ram0.dax()).thenReturn(new DaxDevice("ram0", mock(DaxOperations.class), () -> 512, true));
        // ram1's offset 4 is not page aligned; ram2 has no DAX.
        Target striped = type.construct(line(0, 3 * 16, "3 16 ram0 0 ram1 4 ram2 0", ram0, ram1, ram2));
        when(ram1.dax()).thenReturn(new DaxDevice("ram1", mock(DaxOperations.class), () -> 512, true));

        assertEquals(DaxException.Errno.EIO, assertThrows(DaxException.class, () -> striped.directAccess(2, 1, new DaxMapping())).errno());
        assertEquals(DaxException.Errno.EOPNOTSUPP, assertThrows(DaxException.class, () -> striped.directAccess(4, 1, new DaxMapping())).errno());
    }

    /**
     * A geometry of powers of two takes the shifts, in pages for DAX only when a chunk is whole pages
     * and every stripe starts on a page; otherwise the sector mapping answers, as before: the pages
     * of a stripe that starts off a page are EIO, the other stripe's still map.
     */
    @Test
    void daxOverShiftsWithAStripeOffAPageMapsTheOtherStripeAndRefusesThatOne() throws TargetException {
        DaxOperations ops0 = mock(DaxOperations.class);
        when(ram0.dax()).thenReturn(new DaxDevice("ram0", ops0, () -> 512, true));
        when(ram1.dax()).thenReturn(new DaxDevice("ram1", mock(DaxOperations.class), () -> 512, true));
        Target striped = type.construct(line(0, 1024, "2 16 ram0 8 ram1 4", ram0, ram1));
        assertTrue(striped instanceof StripedTargetType.Striped.Shifts);

        DaxMapping map = new DaxMapping();
        striped.directAccess(5, 1, map); // sector 40: chunk 2, ram0's second chunk, sector 8 + 16 + 8: page 4
        verify(ops0).directAccess(eq(4L), eq(1L), same(map));
        assertEquals("ram1: sector 4 is not page aligned for DAX",
                assertThrows(DaxException.class, () -> striped.directAccess(2, 1, new DaxMapping())).getMessage());
    }

    @Test
    void daxOverShiftsWithTheTargetOffAPageMapsWhatLandsOnPages() throws TargetException {
        DaxOperations ops1 = mock(DaxOperations.class);
        when(ram0.dax()).thenReturn(new DaxDevice("ram0", mock(DaxOperations.class), () -> 512, true));
        when(ram1.dax()).thenReturn(new DaxDevice("ram1", ops1, () -> 512, true));
        // The target begins at sector 4 and ram1's area at sector 4: page 3 (sector 24) is target
        // sector 20, in chunk 1 (ram1's first), ram1 sector 4 + 4: page 1.
        Target striped = type.construct(line(4, 1024, "2 16 ram0 4 ram1 4", ram0, ram1));

        DaxMapping map = new DaxMapping();
        striped.directAccess(3, 1, map);
        verify(ops1).directAccess(eq(1L), eq(1L), same(map));
    }
}
