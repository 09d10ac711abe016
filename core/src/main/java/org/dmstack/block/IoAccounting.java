package org.dmstack.block;

/**
 * Whether and how a disk's bios count in its {@code stat} (and {@code inflight}, iostat, the
 * MXBean): a driver asks for it when it builds its disk, as in Linux 6.1, where the block layer
 * accounts only blk-mq requests and a bio-based driver's bios count only if the driver itself
 * calls bio_start_io_acct.
 */
public enum IoAccounting {
    /** Never, whatever queue/iostats says: brd_submit_bio accounts nothing, so ram0's stat stays zero. */
    NONE,
    /**
     * While queue/iostats is 1, as blk-mq accounts requests (nbd): flushes, PREFLUSH and the flush
     * after a FUA write the queue cannot do count in the flush group (blk_account_io_flush).
     */
    IOSTATS,
    /**
     * While queue/iostats is 1, as pmem_submit_bio accounts (bio_start_io_acct after its
     * blk_queue_io_stat check): each bio once, by its op, an empty flush as a write of 0 sectors.
     */
    BIO_IOSTATS,
    /**
     * Always, by the driver itself (6.1's dm_io_acct, which does not look at queue/iostats; later
     * kernels made dm heed it): submit counts nothing, the driver calls {@link GenDisk#startIoAcct}
     * and {@link GenDisk#endIoAcct} for each I/O it accounts, as dm does for each dm_io.
     */
    DRIVER
}
