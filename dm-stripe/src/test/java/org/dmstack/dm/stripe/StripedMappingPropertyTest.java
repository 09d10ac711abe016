package org.dmstack.dm.stripe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.mockito.Mockito.when;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.dmstack.testkit.MockDevices;
import org.dmstack.testkit.RecordingDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetException;
import org.junit.jupiter.api.Test;

/**
 * The striped mapping over random geometries (fixed seeds): 1–8 stripes, chunk sizes of every
 * kind (1 sector, odd, non-powers of two, powers of two), random target begins and device offsets.
 * The reference lays the target out chunk by chunk with plain counting, no division. Both
 * mappings are covered: shifts (chunk size and stripe count powers of two) and divisions.
 */
class StripedMappingPropertyTest {
    private static final int[] CHUNKS = {1, 2, 3, 5, 7, 8, 12, 16, 24, 100, 127, 128, 129, 384, 1000};
    private static final MemorySegment ONE_SECTOR = MemorySegment.ofArray(new byte[512]);

    /** A random striped line and its reference layout: sector n of the target is sector deviceSector[n] of device stripeOf[n]. */
    private static final class Geometry {
        final int stripes, chunk, rows;
        final long begin, width, length;
        final long[] starts;
        final BlockDevice[] devices;
        final Target target;
        final int[] refStripe;
        final long[] refSector;

        Geometry(Random random) throws TargetException {
            this(random, 1);
        }

        /** @param align what the chunk size, the begin and the device offsets are multiples of (8: whole pages, for DAX) */
        Geometry(Random random, int align) throws TargetException {
            stripes = 1 + random.nextInt(8);
            chunk = align * (random.nextInt(4) == 0 ? 1 + random.nextInt(300) : CHUNKS[random.nextInt(CHUNKS.length)]);
            rows = 1 + random.nextInt(Math.max(1, 3000 * align / (stripes * chunk)));
            width = (long) rows * chunk;
            length = width * stripes;
            begin = align * (random.nextInt(3) == 0 ? 0 : random.nextInt(100_000));
            starts = new long[stripes];
            devices = new BlockDevice[stripes];
            StringBuilder args = new StringBuilder().append(stripes).append(' ').append(chunk);
            for (int i = 0; i < stripes; i++) {
                starts[i] = align * (random.nextInt(2) == 0 ? 0 : random.nextInt(1 << 20));
                devices[i] = MockDevices.device("ram" + i, new DevT(1, i), starts[i] + width);
                args.append(" ram").append(i).append(' ').append(starts[i]);
            }
            target = new StripedTargetType().construct(MockDevices.line(begin, length, args.toString(), devices));
            boolean powersOfTwo = Integer.bitCount(chunk) == 1 && Integer.bitCount(stripes) == 1;
            assertEquals(powersOfTwo ? StripedTargetType.Striped.Shifts.class : StripedTargetType.Striped.Divisions.class, target.getClass(), toString());

            refStripe = new int[(int) length];
            refSector = new long[(int) length];
            int n = 0;
            for (int row = 0; row < rows; row++) {
                for (int stripe = 0; stripe < stripes; stripe++) {
                    for (int i = 0; i < chunk; i++, n++) {
                        refStripe[n] = stripe;
                        refSector[n] = starts[stripe] + (long) row * chunk + i;
                    }
                }
            }
        }

        int stripeOf(BlockDevice device) {
            for (int i = 0; i < stripes; i++) if (devices[i] == device) return i;
            return fail("mapped to a device that is not a stripe: " + device);
        }

        @Override
        public String toString() {
            return stripes + " stripes of " + chunk + " sectors, " + rows + " rows, begin " + begin;
        }
    }

    /** How many of the geometries took each mapping: both must be well covered. */
    private static void assertBothMappings(int shifts, int divisions) {
        assertTrue(shifts >= 30 && divisions >= 30, "shifts " + shifts + ", divisions " + divisions);
    }

    @Test
    void everySectorMapsToItsReferencePlaceAndTheMappingIsABijectionOntoTheStripeAreas() throws TargetException {
        Random random = new Random(20261121);
        int shifts = 0;
        for (int g = 0; g < 300; g++) {
            Geometry geo = new Geometry(random);
            if (geo.target instanceof StripedTargetType.Striped.Shifts) shifts++;
            boolean[][] hit = new boolean[geo.stripes][(int) geo.width];
            for (int n = 0; n < geo.length; n++) {
                Bio bio = Bio.read(geo.begin + n, ONE_SECTOR);
                assertEquals(MapResult.REMAPPED, geo.target.map(bio));
                int stripe = geo.stripeOf(bio.device());
                long sector = bio.sector();
                if (stripe != geo.refStripe[n] || sector != geo.refSector[n]) {
                    fail(geo + ": sector " + n + " went to stripe " + stripe + " sector " + sector + ", expected stripe "
                            + geo.refStripe[n] + " sector " + geo.refSector[n]);
                }
                long inArea = sector - geo.starts[stripe];
                assertTrue(inArea >= 0 && inArea < geo.width, geo + ": sector " + n + " outside its stripe's area");
                assertTrue(!hit[stripe][(int) inArea], geo + ": two sectors map to stripe " + stripe + " sector " + sector);
                hit[stripe][(int) inArea] = true;
            }
            // length sectors went to distinct places inside areas of stripes x width = length sectors: a bijection.
        }
        assertBothMappings(shifts, 300 - shifts);
    }

    /**
     * Queue limits of a striped table over brd-like devices (physical block size 4096), for random
     * stripe counts and chunk sizes: stripe_io_hints sets io_min to the chunk (blk_limits_io_min:
     * at least the physical block size) and io_opt to a row, then dm_calculate_queue_limits stacks
     * them with blk_stack_limits, where io_min that is not a multiple of the physical block size
     * becomes the physical block size and io_opt that is not becomes 0 (and the device is
     * misaligned: alignment_offset -1).
     */
    @Test
    void ioMinAndIoOptFollowTheStackingRule() {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        for (int i = 0; i < 8; i++) RecordingDevice.ram(registry, i, 4096, false);
        try (DeviceMapper dm = new DeviceMapper(registry)) {
            dm.targetTypes().register(new StripedTargetType());
            Random random = new Random(612);
            for (int g = 0; g < 200; g++) {
                int stripes = 1 + random.nextInt(8);
                int chunk = random.nextInt(3) == 0 ? 1 + random.nextInt(64) : CHUNKS[random.nextInt(CHUNKS.length)];
                StringBuilder table = new StringBuilder().append("0 ").append((long) stripes * chunk * 4).append(" striped ").append(stripes).append(' ').append(chunk);
                for (int i = 0; i < stripes; i++) table.append(" ram").append(i).append(" 0");
                BlockDevice md = dm.create("st", table.toString()).disk();

                long ioMin = Math.max(chunk * 512L, 4096);
                long ioOpt = chunk * 512L * stripes;
                boolean misaligned = ioMin % 4096 != 0 || ioOpt % 4096 != 0;
                if (ioMin % 4096 != 0) ioMin = 4096;
                if (ioOpt % 4096 != 0) ioOpt = 0;
                String what = stripes + " stripes of " + chunk + " sectors";
                assertEquals(Long.toString(ioMin), md.attributes().read("queue/minimum_io_size"), what);
                assertEquals(Long.toString(ioOpt), md.attributes().read("queue/optimal_io_size"), what);
                assertEquals(misaligned ? "-1" : "0", md.attributes().read("alignment_offset"), what);
                dm.remove("st");
            }
        }
    }

    /** Records the last direct_access a stripe's device saw. */
    private static final class Recorder implements DaxOperations {
        final int stripe;
        final int[] lastStripe;
        long pgoff = -1, pages = -1;

        Recorder(int stripe, int[] lastStripe) {
            this.stripe = stripe;
            this.lastStripe = lastStripe;
        }

        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            this.pgoff = pgoff;
            this.pages = nrPages;
            lastStripe[0] = stripe;
            map.set(PAGES, 0, pgoff, Math.max(1, nrPages));
        }
    }

    private static final MemorySegment PAGES = MemorySegment.ofArray(new byte[64 * 4096]);

    @Test
    void everyDaxPageGoesToItsReferenceStripeAndPage() throws TargetException {
        Random random = new Random(7);
        int shifts = 0;
        DaxMapping map = new DaxMapping();
        for (int g = 0; g < 300; g++) {
            Geometry geo = new Geometry(random, 8);
            if (geo.target instanceof StripedTargetType.Striped.Shifts) shifts++;
            int[] last = {-1};
            Recorder[] recorders = new Recorder[geo.stripes];
            for (int i = 0; i < geo.stripes; i++) {
                recorders[i] = new Recorder(i, last);
                DaxDevice dax = new DaxDevice("ram" + i, recorders[i], () -> Long.MAX_VALUE, true);
                when(geo.devices[i].dax()).thenReturn(dax);
            }
            for (int n = 0; n < geo.length; n += 8) {
                long pgoff = (geo.begin + n) / 8;
                int stripe = geo.refStripe[n];
                long devicePgoff = geo.refSector[n] / 8;
                long toChunkEnd = (geo.chunk - n % geo.chunk) / 8; // whole pages; what core would ask for at most
                long nr = 1 + random.nextInt((int) Math.max(1, toChunkEnd));
                String where = geo + ": page " + n / 8;
                geo.target.directAccess(pgoff, nr, map);
                assertEquals(stripe, last[0], where);
                assertEquals(devicePgoff, recorders[stripe].pgoff, where);
                assertEquals(nr, recorders[stripe].pages, where);
                assertEquals(devicePgoff, map.pfn(), where);
            }
        }
        assertBothMappings(shifts, 300 - shifts);
    }

    @Test
    void eachStripeGetsExactlyItsPartOfADiscardAsOneRange() throws TargetException {
        Random random = new Random(42);
        for (int g = 0; g < 300; g++) {
            Geometry geo = new Geometry(random);
            for (int r = 0; r < 20; r++) {
                int from = random.nextInt((int) geo.length);
                int to = from + 1 + random.nextInt((int) geo.length - from);
                for (int stripe = 0; stripe < geo.stripes; stripe++) {
                    // The reference: the lowest and highest device sectors of this stripe in [from, to), and how many.
                    long low = Long.MAX_VALUE, high = -1, count = 0;
                    for (int n = from; n < to; n++) {
                        if (geo.refStripe[n] != stripe) continue;
                        low = Math.min(low, geo.refSector[n]);
                        high = Math.max(high, geo.refSector[n]);
                        count++;
                    }
                    Bio discard = random.nextBoolean() ? Bio.discard(geo.begin + from, (to - from) * 512L)
                            : Bio.writeZeroes(geo.begin + from, (to - from) * 512L);
                    discard.setTargetBioNr(stripe);
                    MapResult result = geo.target.map(discard);
                    String where = geo + ": [" + from + ", " + to + ") stripe " + stripe;
                    if (count == 0) {
                        assertEquals(MapResult.SUBMITTED, result, where);
                        assertEquals(BlkStatus.OK, discard.await(), where);
                        assertNull(discard.device(), where);
                    } else {
                        assertEquals(high - low + 1, count, where + ": the reference says the part is one run");
                        assertEquals(MapResult.REMAPPED, result, where);
                        assertEquals(geo.devices[stripe], discard.device(), where);
                        assertEquals(low, discard.sector(), where);
                        assertEquals(count, discard.sectors(), where);
                    }
                }
            }
        }
    }
}
