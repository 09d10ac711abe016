package org.dmstack.block;

/**
 * Whether a disk's bios count in its {@code stat} (and {@code inflight}, iostat, the MXBean): a
 * driver asks for it when it builds its disk, as in Linux 6.1, where the block layer accounts
 * only blk-mq requests and a bio-based driver's bios count only if the driver itself calls
 * bio_start_io_acct.
 */
public enum IoAccounting {
    /** Never, whatever queue/iostats says: brd_submit_bio accounts nothing, so ram0's stat stays zero. */
    NONE,
    /** While queue/iostats is 1: pmem_submit_bio's blk_queue_io_stat check, and blk-mq's for nbd. */
    IOSTATS,
    /** Always: 6.1's dm_io_acct does not look at queue/iostats (later kernels made dm heed it). */
    ALWAYS
}
