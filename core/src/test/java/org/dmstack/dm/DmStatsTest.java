package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.IoAccounting;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The @stats messages: regions cut into areas, bios across area boundaries, at known times. */
class DmStatsTest {
    private final AtomicLong now = new AtomicLong(1000);
    private final ArrayDeque<Bio> held = new ArrayDeque<>();
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry, now::get);
    private final MappedDevice vol;

    DmStatsTest() {
        // A disk below that counts its bios too (as pmem with queue/iostats set; brd would not).
        registry.add(GenDisk.builder("ram0", new DevT(1, 0), 2048, held::add).clock(now::get)
                .limits(QueueLimits.of(512, 4096).setDiscard(QueueLimits.UNLIMITED, 4096)).accounting(IoAccounting.IOSTATS, true).build());
        dm.targetTypes().register(new TestLinear.Type());
        vol = dm.create("vol", "0 2048 testlinear 1:0 0");
    }

    @AfterEach
    void close() {
        dm.close();
    }

    private String msg(String... words) {
        return dm.message("vol", 0, List.of(words));
    }

    private Bio submit(Bio bio, long at) {
        now.set(at);
        vol.disk().submit(bio);
        return bio;
    }

    private void complete(long at) {
        now.set(at);
        held.removeFirst().endio(BlkStatus.OK);
    }

    private static MemorySegment buf(int sectors) {
        return MemorySegment.ofArray(new byte[sectors * 512]);
    }

    @Test
    void aRegionSplitInStepsCountsEachAreasShareOfABio() {
        assertEquals("0", msg("@stats_create", "0+1024", "/4"));
        assertEquals("1", msg("@stats_create", "-", "512", "1", "precise_timestamps", "prog", "aux"));
        assertEquals("0: 0+1024 256 - -\n1: 0+2048 512 prog aux precise_timestamps\n", msg("@stats_list"));
        assertEquals("1: 0+2048 512 prog aux precise_timestamps\n", msg("@stats_list", "prog"));

        submit(Bio.write(248, buf(16)), 1000);                // 8 sectors in area 0, 8 in area 1
        complete(1004);
        // Starts where the last write ended, yet not merged: 6.1's dm_stats_account_io compares
        // bi_sector with (last_sector && same direction), a truth value (see mergesAsLinux61ComputesThem).
        submit(Bio.write(264, buf(8)), 1010);
        complete(1011);
        submit(Bio.read(600, buf(8)), 1020);
        now.set(1022);
        assertEquals("512+256 0 0 0 0 0 0 0 0 1 2 2 2 0\n", msg("@stats_print", "0", "2", "1"));
        complete(1025);
        submit(Bio.discard(1000, 8 * 512), 1030);             // a discard is a write
        complete(1030);
        submit(Bio.flush(), 1031);                            // no sectors: not counted

        now.set(1040);
        assertEquals("""
                0+256 0 0 0 0 1 0 8 4 0 4 4 0 4
                256+256 0 0 0 0 2 0 16 5 0 5 5 0 5
                512+256 1 0 8 5 0 0 0 0 0 5 5 5 0
                768+256 0 0 0 0 1 0 8 0 0 0 0 0 0
                """, msg("@stats_print", "0"));
        assertEquals("""
                256+256 0 0 0 0 2 0 16 5 0 5 5 0 5
                512+256 1 0 8 5 0 0 0 0 0 5 5 5 0
                """, msg("@stats_print", "0", "1", "2"));
        // The precise region counts the same bios, with times in nanoseconds.
        String[] whole = msg("@stats_print", "1").split("\n");
        assertEquals(4, whole.length);
        assertEquals(List.of("0+512", "0", "0", "0"), List.of(whole[0].split(" ")).subList(0, 4));
        assertEquals(List.of("2", "0", "24"), List.of(whole[0].split(" ")).subList(5, 8));
        assertEquals(List.of("1", "0", "8"), List.of(whole[1].split(" ")).subList(1, 4));

        assertEquals("""
                0+256 0 0 0 0 1 0 8 4 0 4 4 0 4
                """, msg("@stats_print_clear", "0", "0", "1"));
        assertEquals("0+256 0 0 0 0 0 0 0 0 0 0 0 0 0\n", msg("@stats_print", "0", "-", "1"));
        assertEquals("", msg("@stats_clear", "0"));
        assertEquals("768+256 0 0 0 0 0 0 0 0 0 0 0 0 0\n", msg("@stats_print", "0", "3", "-"));

        assertEquals("", msg("@stats_set_aux", "1", "note"));
        assertEquals("", msg("@stats_delete", "0"));
        assertEquals("1: 0+2048 512 prog note precise_timestamps\n", msg("@stats_list"));
        // The lowest free id is reused.
        assertEquals("0", msg("@stats_create", "0+1000", "300", "1", "histogram:1,5"));
        assertEquals("0: 0+1000 300 - - histogram:1,5\n", msg("@stats_list", "-"));
        now.set(1100);
        submit(Bio.read(950, buf(8)), 1100);
        complete(1103);
        // The last area is shorter; its line still shows the step. Durations 3 ms: between 1 and 5.
        assertEquals("900+300 1 0 8 3 0 0 0 0 0 3 3 3 0 0:1:0\n", msg("@stats_print", "0", "3", "1"));
    }

    /**
     * dm-stats.c (6.1) dm_stats_account_io: {@code stats_aux->merged = (bi_sector ==
     * (READ_ONCE(last->last_sector) && ((bi_rw == WRITE) == (READ_ONCE(last->last_rw) == WRITE))))}:
     * only an I/O at sector 1 after one of its direction (or at sector 0 after one of the other)
     * counts as merged; the last position starts as ULLONG_MAX and UINT_MAX (not WRITE).
     */
    @Test
    void mergesAsLinux61ComputesThem() {
        assertEquals("0", msg("@stats_create", "0+16", "8"));
        submit(Bio.read(0, buf(1)), 1000);                    // 0 == (ULLONG_MAX && READ-like == READ-like) = 1: no
        complete(1000);
        submit(Bio.read(1, buf(1)), 1000);                    // 1 == (1 && true): merged
        complete(1000);
        submit(Bio.write(0, buf(1)), 1000);                   // 0 == (2 && false) = 0: merged
        complete(1000);
        submit(Bio.write(8, buf(1)), 1000);                   // 8 == 1: no
        complete(1000);
        submit(Bio.write(9, buf(1)), 1000);                   // 9 == 1: no, though it starts where the last ended
        complete(1000);
        assertEquals("""
                0+8 2 1 2 0 1 1 1 0 0 0 0 0 0
                8+8 0 0 0 0 2 0 2 0 0 0 0 0 0
                """, msg("@stats_print", "0"));
    }

    /**
     * dm-stats.c __dm_stat_clear totals each area through __dm_stat_init_temporary_percpu_totals,
     * which calls dm_stat_round first: the busy time of an I/O in flight before a clear is cleared.
     */
    @Test
    void clearingWhileInFlightKeepsOnlyTheBusyTimeAfter() {
        assertEquals("0", msg("@stats_create", "0+16", "16"));
        submit(Bio.write(8, buf(8)), 1000);
        now.set(1005);
        assertEquals("", msg("@stats_clear", "0"));
        complete(1008);
        now.set(1010);
        assertEquals("0+16 0 0 0 0 1 0 8 8 0 3 3 0 3\n", msg("@stats_print", "0"));
    }

    @Test
    void refusedMessagesSayWhyAndChangeNothing() {
        for (List<String> bad : List.of(
                List.of("@stats_create", "10+0", "1"),
                List.of("@stats_create", "-", "0"),
                List.of("@stats_create", "-", "/0"),
                List.of("@stats_create", "x+1", "8"),
                List.of("@stats_create", "-"),
                List.of("@stats_create", "-", "8", "1", "bogus"),
                List.of("@stats_create", "-", "8", "1", "histogram:5,5"),
                List.of("@stats_create", "-", "8", "a", "b", "c"),
                List.of("@stats_print", "0", "1"),
                List.of("@stats_delete", "-1"))) {
            DmException e = assertThrows(DmException.class, () -> dm.message("vol", 0, bad));
            assertEquals("message ioctl on vol failed: Invalid argument (Invalid parameters for message " + bad.get(0) + ")", e.getMessage(), bad.toString());
        }
        assertEquals("", msg("@stats_list"));
        DmException e = assertThrows(DmException.class, () -> msg("@stats_print", "7"));
        assertEquals("message ioctl on vol failed: No such file or directory (no region 7)", e.getMessage());
        e = assertThrows(DmException.class, () -> msg("@stats_delete", "0"));
        assertEquals("message ioctl on vol failed: No such file or directory (no region 0)", e.getMessage());
        // An @ message that is not dm's own never reaches the target (dm-ioctl.c 6.1, message_for_md).
        e = assertThrows(DmException.class, () -> msg("@other"));
        assertEquals("message ioctl on vol failed: Invalid argument (Unsupported message sent to DM core: @other)", e.getMessage());
    }

    @Test
    void theMappedDiskCountsTheBioOnceAndTheDiskBelowEachClone() {
        submit(Bio.write(0, buf(8)), 1000);
        complete(1002);
        assertEquals(1, ((GenDisk) vol.disk()).stats().snapshot().writeIos());
        assertEquals(2, ((GenDisk) vol.disk()).stats().snapshot().writeTicks());
        assertEquals(1, ((GenDisk) registry.lookup("ram0")).stats().snapshot().writeIos());
    }
}
