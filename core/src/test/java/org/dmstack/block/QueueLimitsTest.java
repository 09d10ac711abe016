package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The stacking rules of Linux 6.1's blk_stack_limits and the defaults of blk-settings.c. */
class QueueLimitsTest {
    /** brd_alloc: default limits, then blk_queue_physical_block_size(PAGE_SIZE). */
    private static QueueLimits brd() {
        return QueueLimits.of(512, 4096);
    }

    /**
     * dm_calculate_queue_limits for one striped target over brd: the target's limits stack the
     * device, stripe_io_hints sets io_min (blk_limits_io_min, never below the physical block size)
     * and io_opt, then blk_stack_limits merges them into the table's, which turns an io_min that
     * is not a multiple of the physical block size into the physical block size and such an io_opt
     * into 0, and marks the result misaligned (bdev_alignment_offset: -1).
     */
    @ParameterizedTest(name = "{0} stripes of {1} sectors: io_min {2}, io_opt {3}")
    @CsvSource({
        "2, 1, 4096, 0, -1",
        "2, 12, 4096, 12288, -1",
        "3, 3, 4096, 0, -1",
        "2, 8, 4096, 8192, 0",
        "4, 256, 131072, 524288, 0",
        "3, 16, 8192, 24576, 0",
    })
    void stripedHintsAreCorrectedWhenStacked(int stripes, int chunkSectors, long ioMin, long ioOpt, long alignmentOffset) {
        QueueLimits ti = QueueLimits.stacking();
        for (int i = 0; i < stripes; i++) ti.stack(brd(), 0);
        ti.setIoMin(chunkSectors * 512L).setIoOpt(chunkSectors * 512L * stripes);
        QueueLimits table = QueueLimits.stacking();
        table.stack(ti, 0);
        assertEquals(ioMin, table.ioMin());
        assertEquals(ioOpt, table.ioOpt());
        assertEquals(alignmentOffset, table.alignmentOffset());
        assertEquals(alignmentOffset != 0, table.misaligned());
    }

    /** queue_limit_alignment_offset: a device used from sector 1 of a 4096-byte-block disk is 3584 bytes off. */
    @Test
    void alignmentOffsetFollowsWhereTheDeviceIsUsedFrom() {
        QueueLimits ti = QueueLimits.stacking().stack(brd(), 1);
        QueueLimits table = QueueLimits.stacking().stack(ti, 0);
        assertEquals(3584, table.alignmentOffset());
        assertFalse(table.misaligned());

        QueueLimits aligned = QueueLimits.stacking().stack(brd(), 8);
        assertEquals(0, aligned.alignmentOffset());

        // Two areas whose alignments do not line up: blk_stack_limits gives up (misaligned, -1).
        table.stack(QueueLimits.stacking().stack(brd(), 0), 0);
        assertTrue(table.misaligned());
        assertEquals(-1, table.alignmentOffset());
    }

    /**
     * blk_set_default_limits (BLK_SAFE_MAX_SECTORS for both) for a driver that sets nothing, as brd;
     * blk_queue_max_hw_sectors(UINT_MAX) as pmem calls it: max_sectors stops at BLK_DEF_MAX_SECTORS.
     * blk_set_stacking_limits starts from no limit and takes the smallest from below, rounded down
     * to the logical block size.
     */
    @Test
    void requestSizesAsBlkSettingsSetsThem() {
        assertEquals(255, brd().maxSectors());
        assertEquals(255, brd().maxHwSectors());
        QueueLimits pmem = QueueLimits.of(512, 4096).setMaxHwSectors(QueueLimits.UNLIMITED);
        assertEquals(4294967295L, pmem.maxHwSectors());
        assertEquals(2560, pmem.maxSectors());
        QueueLimits overBoth = QueueLimits.stacking().stack(brd(), 0).stack(pmem, 0);
        assertEquals(255, overBoth.maxSectors());
        assertEquals(255, overBoth.maxHwSectors());
        QueueLimits big = QueueLimits.stacking().stack(QueueLimits.of(4096, 4096).setMaxHwSectors(1001), 0);
        assertEquals(1000, big.maxHwSectors());
    }

    /** Neither brd nor pmem advertises discard or write-zeroes in 6.1; a stack over them has none either. */
    @Test
    void noDiscardOrWriteZeroesFromBelowMeansNoneAbove() {
        QueueLimits over = QueueLimits.stacking().stack(brd(), 0);
        assertEquals(0, over.maxDiscardSectors());
        assertEquals(0, over.discardGranularity());
        assertEquals(0, over.maxWriteZeroesSectors());
        assertEquals(QueueLimits.UNLIMITED, QueueLimits.stacking().maxWriteZeroesSectors());

        QueueLimits discarding = QueueLimits.of(512, 4096).setDiscard(QueueLimits.UNLIMITED, 4096);
        QueueLimits both = QueueLimits.stacking().stack(discarding, 0);
        assertEquals(QueueLimits.UNLIMITED, both.maxDiscardSectors());
        assertEquals(4096, both.discardGranularity());
        assertEquals(0, both.discardAlignment());
    }

    /** blk_stack_limits keeps chunk_sectors only as the gcd of those below, and only if a multiple of the physical block size. */
    @Test
    void chunkSectorsStackAsTheirGcd() {
        QueueLimits t = QueueLimits.stacking().stack(QueueLimits.of(512, 4096).setChunkSectors(48), 0);
        assertEquals(48, t.chunkSectors());
        t.stack(QueueLimits.of(512, 4096).setChunkSectors(32), 0);
        assertEquals(16, t.chunkSectors());
        QueueLimits odd = QueueLimits.stacking().stack(QueueLimits.of(512, 4096).setChunkSectors(12), 0);
        assertEquals(0, odd.chunkSectors());
        assertTrue(odd.misaligned());
    }
}
