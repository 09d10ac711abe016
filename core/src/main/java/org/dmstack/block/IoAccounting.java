package org.dmstack.block;

/**
 * Whether and how a disk's bios count in its {@code stat} (and {@code inflight}, iostat, the
 * MXBean): a driver asks for it when it builds its disk, as in Linux 6.1, where the block layer
 * accounts only blk-mq requests and a bio-based driver's bios count only if the driver itself
 * calls bio_start_io_acct. Except under {@link #REQUESTS}, a disk counts as a bio-based one: each
 * bio once, by its op (op_stat_group), an empty flush as the REQ_OP_WRITE with REQ_PREFLUSH it is
 * in Linux, a write of 0 sectors; the flush fields stay 0.
 */
public enum IoAccounting {
    /** Never, whatever queue/iostats says: brd_submit_bio accounts nothing, so ram0's stat stays zero. */
    NONE,
    /** While queue/iostats is 1, as pmem_submit_bio accounts after its blk_queue_io_stat check. */
    IOSTATS,
    /**
     * While queue/iostats is 1, as blk-mq accounts requests: flushes, PREFLUSH and the flush
     * after a FUA write the queue cannot do count in the flush group (blk_account_io_flush).
     */
    REQUESTS,
    /** Always, whatever queue/iostats says, each bio the disk lets through. */
    ALWAYS,
    /**
     * Always, by the driver itself (6.1's dm_io_acct, which does not look at queue/iostats; later
     * kernels made dm heed it): submit counts nothing, the driver calls {@link GenDisk#startIoAcct}
     * and {@link GenDisk#endIoAcct} for each I/O it accounts, as dm does for each dm_io.
     */
    DRIVER
}
