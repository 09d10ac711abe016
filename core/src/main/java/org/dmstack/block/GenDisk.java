package org.dmstack.block;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.function.Consumer;
import org.dmstack.units.Units;
import java.util.Objects;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxOperations;

/**
 * A driver's block device, like Linux's gendisk: it owns the name, number, capacity, limits and
 * the two write-cache flags, checks every bio before the driver sees it, and publishes the
 * attributes an administrator reads and writes.
 *
 * <pre>{@code
 * GenDisk disk = GenDisk.builder("ram0", new DevT(1, 0), sectors, this::submitBio)
 *         .limits(QueueLimits.of(512, 4096))
 *         .dax(daxOps, false)
 *         .build();
 * }</pre>
 */
public final class GenDisk implements BlockDevice {
    private final String name;
    private final DevT devt;
    private volatile long capacity;
    private volatile QueueLimits limits;
    private volatile boolean writeCache;
    private volatile boolean fua;
    private final boolean fuaToDriver;
    private final BioHandler handler;
    private final DaxDevice dax;
    private final InPlaceRead inPlace;
    private final Holes holes;
    private final BadBlocks badBlocks;
    private final boolean hasBadBlocks; // disk->bb: a driver that keeps a list (pmem)
    private volatile boolean rotational; // QUEUE_FLAG_NONROT cleared: what queue/rotational shows
    private final Attributes attributes = new Attributes();
    private final DiskStats stats;
    private final IoAccounting accounting;
    private volatile boolean ioStats; // QUEUE_FLAG_IO_STAT, what queue/iostats shows
    private volatile boolean accounts; // whether submit accounts a bio: the one read per bio
    private volatile boolean dead;
    private volatile boolean readOnly; // get_disk_ro: either of the two below, what the ro attribute shows and the one read per bio
    private boolean diskReadOnly; // set_disk_ro (GD_READ_ONLY): the driver's
    private boolean policyReadOnly; // BLKROSET (part0->bd_read_only): the user's, blockdev --setro
    // bdi->ra_pages: how far a page cache would read ahead. There is none here, so nothing reads it
    // but the user (queue/read_ahead_kb, BLKRAGET): it is kept as Linux keeps it.
    private volatile long readAheadPages;
    private final int minors;
    private final boolean noPartitions;

    private GenDisk(Builder b) {
        this.name = b.name;
        this.devt = b.devt;
        this.capacity = b.capacity;
        this.limits = b.limits.copy().setDax(b.daxOps != null);
        this.writeCache = b.writeCache;
        this.fua = b.fua;
        this.fuaToDriver = b.fuaToDriver;
        this.handler = b.handler;
        this.badBlocks = b.badBlocks != null ? b.badBlocks : new BadBlocks();
        this.hasBadBlocks = b.badBlocks != null;
        this.stats = new DiskStats(b.jiffies, b.accounting == IoAccounting.REQUESTS);
        this.accounting = b.accounting;
        setIoStats(b.ioStats);
        this.inPlace = b.inPlace == null ? null : new CheckedInPlaceRead(b.inPlace);
        this.holes = b.holes;
        this.minors = b.minors;
        this.noPartitions = b.noPartitions;
        this.dax = b.daxOps == null ? null : new DaxDevice(name, b.daxOps, () -> this.capacity >> Units.PAGE_SECTORS_SHIFT, b.daxWriteCache);
        updateReadAhead();
        defineAttributes();
    }

    public static Builder builder(String name, DevT devt, long capacitySectors, BioHandler handler) {
        return new Builder(name, devt, capacitySectors, handler);
    }

    public static final class Builder {
        private final String name;
        private final DevT devt;
        private final long capacity;
        private final BioHandler handler;
        private QueueLimits limits = QueueLimits.of(Units.SECTOR_SIZE, Units.SECTOR_SIZE);
        private boolean writeCache;
        private boolean fua;
        private boolean fuaToDriver;
        private DaxOperations daxOps;
        private boolean daxWriteCache;
        private BadBlocks badBlocks;
        private InPlaceRead inPlace;
        private Holes holes;
        private java.util.function.LongSupplier jiffies = DiskStats::systemJiffies;
        private IoAccounting accounting = IoAccounting.NONE;
        private boolean ioStats;
        private int minors = 1;
        private boolean noPartitions;

        private Builder(String name, DevT devt, long capacity, BioHandler handler) {
            if (name == null || name.isEmpty() || name.contains("/")) throw new IllegalArgumentException("Invalid device name '" + name + "'");
            if (capacity < 0) throw new IllegalArgumentException(name + ": negative capacity " + capacity);
            this.name = name;
            this.devt = Objects.requireNonNull(devt, "devt");
            this.capacity = capacity;
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        public Builder limits(QueueLimits limits) {
            this.limits = limits;
            return this;
        }

        /** blk_queue_write_cache(q, writeCache, fua). */
        public Builder writeCache(boolean writeCache, boolean fua) {
            this.writeCache = writeCache;
            this.fua = fua;
            return this;
        }

        /**
         * FUA writes reach the driver as they come, even where the queue has no FUA: a bio-based
         * stacking driver (dm) has no blk-flush to turn them into write + flush, it clones them
         * with REQ_FUA to disks that do it themselves.
         */
        public Builder fuaToDriver() {
            this.fuaToDriver = true;
            return this;
        }

        /** Makes the device DAX-capable, with its DAX write-cache flag. */
        public Builder dax(DaxOperations ops, boolean daxWriteCache) {
            this.daxOps = ops;
            this.daxWriteCache = daxWriteCache;
            return this;
        }

        /** Lets readers use the driver's memory in place (see {@link InPlaceRead}). */
        public Builder inPlaceRead(InPlaceRead inPlace) {
            this.inPlace = inPlace;
            return this;
        }

        /** Lets readers ask where the data is (see {@link Holes}). */
        public Builder holes(Holes holes) {
            this.holes = holes;
            return this;
        }

        /** The driver's own bad-block list, shown in the badblocks attribute. */
        public Builder badBlocks(BadBlocks badBlocks) {
            this.badBlocks = badBlocks;
            return this;
        }

        /**
         * How the disk's bios are accounted, and the queue/iostats flag it starts with. Without
         * it, nothing is (brd): blk_alloc_disk's queue has no QUEUE_FLAG_IO_STAT and a bio-based
         * driver's bios count only if it asks. blk-mq queues start with the flag set (nbd).
         */
        public Builder accounting(IoAccounting accounting, boolean ioStats) {
            this.accounting = Objects.requireNonNull(accounting, "accounting");
            this.ioStats = ioStats;
            return this;
        }

        /**
         * The disk's minors (the range attribute: brd's max_part, 1; 0 for a disk numbered from
         * the extended range, as pmem's) and GENHD_FL_NO_PART (dm: ext_range 1, capability 4).
         */
        public Builder partitions(int minors, boolean noPartitions) {
            if (minors < 0) throw new IllegalArgumentException("negative minors");
            this.minors = minors;
            this.noPartitions = noPartitions;
            return this;
        }

        /** The clock of the I/O statistics, in milliseconds (tests give their own). */
        public Builder clock(java.util.function.LongSupplier jiffies) {
            this.jiffies = Objects.requireNonNull(jiffies, "jiffies");
            return this;
        }

        public GenDisk build() {
            return new GenDisk(this);
        }
    }

    @Override
    public void submit(Bio bio) {
        if (dead) {
            handBack(bio);
            return;
        }
        BlkStatus invalid = check(bio);
        if (invalid != null) {
            bio.endio(invalid);
            return;
        }
        if (readOnly && bio.op().isWrite()) {
            // Linux 6.1's bio_check_ro only warns (for old lvm tools) and its refusal is write(2)'s
            // EPERM; here bios are the only way in, so the disk refuses what it must not take.
            bio.endio(BlkStatus.ioerr("Trying to write to read-only block-device " + name));
            return;
        }
        if (!writeCache && (bio.hasFlag(BioFlag.PREFLUSH) || bio.hasFlag(BioFlag.FUA))) {
            // Without a write cache every write is durable on completion: flushes have nothing to do.
            bio.clearFlag(BioFlag.PREFLUSH);
            bio.clearFlag(BioFlag.FUA);
            if (bio.op() == BioOp.FLUSH) {
                bio.endio(BlkStatus.OK);
                return;
            }
        }
        boolean postflush = writeCache && !fua && !fuaToDriver && bio.hasFlag(BioFlag.FUA);
        if (accounts) bio.startAccounting(stats, bio.hasFlag(BioFlag.PREFLUSH) || postflush);
        if (postflush) {
            submitWithPostflush(bio);
            return;
        }
        handle(bio, bio);
    }

    /**
     * The driver's memory for reading in place, or null when it offers none. Refused once the disk
     * is withdrawn, outside it, or unaligned, as a bio would be; each read is counted in the
     * statistics as a read bio that ended at once.
     */
    public InPlaceRead inPlaceRead() {
        return inPlace;
    }

    /** Where the driver's data is, or null when it cannot tell (everything is data then). */
    public Holes holes() {
        return holes;
    }

    private final class CheckedInPlaceRead implements InPlaceRead {
        private final InPlaceRead driver;

        CheckedInPlaceRead(InPlaceRead driver) {
            this.driver = driver;
        }

        @Override
        public boolean pin(long offset, long bytes, Consumer<MemorySegment> into) {
            int lbs = limits.logicalBlockSize();
            if (dead || bytes <= 0 || ((offset | bytes) & (lbs - 1)) != 0 || offset < 0 || offset > sizeBytes() || bytes > sizeBytes() - offset) {
                return false;
            }
            if (!driver.pin(offset, bytes, into)) return false;
            if (accounts) {
                long[] cell = stats.cell();
                stats.end(cell, BioOp.READ, false, stats.start(cell, BioOp.READ, bytes >> Units.SECTOR_SHIFT));
            }
            return true;
        }

        @Override
        public void unpin() {
            driver.unpin();
        }
    }

    /**
     * Withdraws the disk (Linux's del_gendisk marks it dead): from now on every bio submitted to it
     * is handed back undone (see {@link #handBack}). The driver calls it when its device goes away,
     * then finishes the bios it has already taken or hands them back too, so that nothing sent to
     * it fails only because it went away while a table above holds it.
     */
    public void del() {
        dead = true;
    }

    /**
     * set_disk_ro, the driver's flag: a read-only disk refuses every bio that would change it
     * (WRITE, WRITE_ZEROES, DISCARD; an empty FLUSH still passes, as bio_check_ro lets it), and so
     * does fs-dax on its DAX device (EROFS); reads go on. The ro attribute shows it.
     */
    public synchronized void setReadOnly(boolean readOnly) {
        diskReadOnly = readOnly;
        updateReadOnly();
    }

    /**
     * The BLKROSET ioctl (blockdev --setro / --setrw): the user's read-only flag, beside the
     * driver's. The disk is read-only while either is set, so --setrw does not make writable a disk
     * its driver made read-only (get_disk_ro).
     */
    public synchronized void setPolicyReadOnly(boolean readOnly) {
        policyReadOnly = readOnly;
        updateReadOnly();
    }

    private void updateReadOnly() {
        readOnly = diskReadOnly || policyReadOnly;
        if (dax != null) dax.setReadOnly(readOnly);
    }

    /** get_disk_ro: read-only by the driver's flag or the user's. */
    public boolean readOnly() {
        return readOnly;
    }

    /** True once {@link #del()} was called. */
    public boolean isDead() {
        return dead;
    }

    /**
     * Gives back a bio this disk has not done and will not do because it was withdrawn: to the one
     * who set its {@link Bio.HandBack} (device-mapper's hold on the device, which resends it to the
     * device that comes back, or fails it when the hold time runs out), or else it ends with IOERR
     * ({@code "NAME: device removed"}). Its accounting on this disk ends first.
     */
    public void handBack(Bio bio) {
        bio.endAccounting();
        Bio.HandBack to = bio.handBack();
        if (to == null) {
            bio.endio(BlkStatus.ioerr(name + ": device removed"));
        } else {
            bio.setHandBack(null);
            to.handBack(bio, this);
        }
    }

    /**
     * What blk-flush does for a FUA write to a queue with a write cache but no FUA: the write
     * without FUA, then a flush, and the bio ends when the flush has (or with the write's error).
     */
    private void submitWithPostflush(Bio bio) {
        Bio write = bio.clone(0, bio.size());
        write.clearFlag(BioFlag.FUA);
        // Either half given back by a withdrawn driver gives back the bio itself.
        Bio.HandBack whole = (part, from) -> handBack(bio);
        write.setHandBack(whole);
        write.setEndIo((w, status) -> {
            if (!status.isOk()) {
                bio.endio(status);
                return;
            }
            Bio postflush = Bio.flush();
            postflush.setHandBack(whole);
            postflush.setEndIo((f, flushStatus) -> bio.endio(flushStatus));
            handle(postflush, bio);
        });
        handle(write, bio);
    }

    /** Hands {@code bio} to the driver; a driver that throws ends {@code owner} with IOERR. */
    private void handle(Bio bio, Bio owner) {
        try {
            handler.submitBio(bio);
        } catch (RuntimeException e) {
            owner.endio(BlkStatus.ioerr(name + ": " + e.getMessage()));
        }
    }

    /** The reason a bio must be refused before the driver sees it, or null. */
    private BlkStatus check(Bio bio) {
        if (bio.op() == BioOp.FLUSH) return null;
        long sector = bio.sector();
        long size = bio.size();
        if (size == 0) return BlkStatus.inval(name + ": empty " + bio.op() + " bio at sector " + sector);
        int lbs = limits.logicalBlockSize();
        if ((size & (lbs - 1)) != 0 || ((sector << Units.SECTOR_SHIFT) & (lbs - 1)) != 0) {
            return BlkStatus.inval(name + ": " + bio.op() + " at sector " + sector + " of " + size
                    + " bytes is not aligned to the logical block size " + lbs);
        }
        long sectors = size >> Units.SECTOR_SHIFT;
        long cap = capacity;
        if (sector < 0 || sector > cap || sectors > cap - sector) {
            // bio_check_eod: its two lines of the log, and EIO.
            return BlkStatus.ioerr("attempt to access beyond end of device " + name + ": rw=" + opf(bio) + ", sector=" + sector
                    + ", nr_sectors = " + sectors + " limit=" + cap);
        }
        // submit_bio_noacct: an operation the queue's limits do not offer is EOPNOTSUPP.
        if (bio.op() == BioOp.DISCARD && limits.maxDiscardSectors() == 0) {
            return BlkStatus.notsupp(name + ": DISCARD is not supported (discard_max_bytes is 0)");
        }
        if (bio.op() == BioOp.WRITE_ZEROES && limits.maxWriteZeroesSectors() == 0) {
            return BlkStatus.notsupp(name + ": WRITE_ZEROES is not supported (write_zeroes_max_bytes is 0)");
        }
        return null;
    }

    /** The bio's bi_opf as the kernel prints it (rw=): REQ_OP_* in the low byte, REQ_FUA bit 17, REQ_PREFLUSH bit 18. */
    private static long opf(Bio bio) {
        long op = switch (bio.op()) {
            case READ -> 0;
            case WRITE, FLUSH -> 1; // an empty flush is REQ_OP_WRITE | REQ_PREFLUSH
            case DISCARD -> 3;
            case WRITE_ZEROES -> 9;
        };
        if (bio.hasFlag(BioFlag.FUA)) op |= 1L << 17;
        if (bio.hasFlag(BioFlag.PREFLUSH) || bio.op() == BioOp.FLUSH) op |= 1L << 18;
        return op;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DevT devt() {
        return devt;
    }

    @Override
    public long capacity() {
        return capacity;
    }

    /** set_capacity: a mapped device's size follows its active table. */
    public void setCapacity(long sectors) {
        if (sectors < 0) throw new IllegalArgumentException("negative capacity");
        capacity = sectors;
    }

    @Override
    public QueueLimits limits() {
        return limits.copy();
    }

    /**
     * Replaces the limits (a mapped device restacks them when its table changes); the read-ahead
     * goes back to what they give, as dm_table_set_restrictions's disk_update_readahead sets it.
     */
    public void setLimits(QueueLimits newLimits) {
        limits = newLimits.copy();
        updateReadAhead();
        rotational = false;
    }

    /** disk_update_readahead: twice the optimal I/O size, at least VM_READAHEAD_PAGES (128 KiB). */
    private void updateReadAhead() {
        readAheadPages = Math.max(limits.ioOpt() * 2 / Units.PAGE_SIZE, VM_READAHEAD_PAGES);
    }

    private static final long VM_READAHEAD_PAGES = (128 << 10) / Units.PAGE_SIZE;

    @Override
    public boolean writeCache() {
        return writeCache;
    }

    /** What sysfs's queue/write_cache does: "write back" or "write through". */
    public void setWriteCache(boolean writeCache) {
        this.writeCache = writeCache;
    }

    /** blk_queue_write_cache(q, writeCache, fua): both queue flags at once. */
    public void setWriteCache(boolean writeCache, boolean fua) {
        this.writeCache = writeCache;
        this.fua = fua;
    }

    @Override
    public boolean fua() {
        return fua && writeCache;
    }

    @Override
    public DaxDevice dax() {
        // A stacked device can lose DAX when its table changes; the limits say whether it has it now.
        return limits.dax() ? dax : null;
    }

    @Override
    public BadBlocks badBlocks() {
        return badBlocks;
    }

    @Override
    public Attributes attributes() {
        return attributes;
    }

    private synchronized void setIoStats(boolean on) {
        ioStats = on;
        accounts = accounting == IoAccounting.ALWAYS || ((accounting == IoAccounting.IOSTATS || accounting == IoAccounting.REQUESTS) && on);
    }

    /**
     * bio_start_io_acct, for a disk accounted {@link IoAccounting#DRIVER}: {@code bio} counts as
     * one I/O of its op and sectors from now until it ends (or {@link #endIoAcct(Bio)}).
     */
    public void startIoAcct(Bio bio) {
        if (accounting == IoAccounting.DRIVER) bio.startAccounting(stats, false);
    }

    /** bio_end_io_acct: ends {@code bio}'s accounting here without ending the bio (it is requeued, to be counted again). */
    public void endIoAcct(Bio bio) {
        bio.endAccounting();
    }

    /**
     * Takes back {@link #startIoAcct(Bio)} for a bio that was never done: dm starts accounting
     * before its target maps a bio, Linux's dm after, and a bio the target kills is not counted
     * (its io_ticks millisecond, if it started one, stays).
     */
    public void cancelIoAcct(Bio bio) {
        bio.cancelAccounting(stats);
    }

    /**
     * bdev_start_io_acct, for a disk accounted {@link IoAccounting#DRIVER}: one I/O of {@code op}
     * and {@code sectors} starts now. Returns its start time, for {@link #endIoAcct(BioOp, long)}.
     */
    public long startIoAcct(BioOp op, long sectors) {
        return stats.start(stats.cell(), op, sectors);
    }

    /** bdev_end_io_acct: the I/O that {@link #startIoAcct(BioOp, long)} started at {@code start} ends now. */
    public void endIoAcct(BioOp op, long start) {
        stats.end(stats.cell(), op, false, start);
    }

    /** The I/O statistics: what the stat and inflight attributes show. */
    public DiskStats stats() {
        return stats;
    }

    private void defineAttributes() {
        attributes.define("dev", devt::toString);
        attributes.define("size", () -> Long.toString(capacity));
        attributes.define("ro", () -> readOnly ? "1" : "0");
        attributes.define("removable", () -> "0");
        // block/genhd.c: range is disk->minors, ext_range DISK_MAX_PARTS unless GENHD_FL_NO_PART, capability the flags in hex.
        attributes.define("range", () -> Integer.toString(minors));
        attributes.define("ext_range", () -> noPartitions ? "1" : "256");
        attributes.define("hidden", () -> "0");
        attributes.define("capability", () -> Integer.toHexString(noPartitions ? 1 << 2 : 0));
        attributes.define("badblocks", () -> badBlocks.show().stripTrailing(), this::storeBadBlocks);
        attributes.define("stat", () -> stats.snapshot().stat());
        attributes.define("inflight", () -> stats.snapshot().inflight());
        // QUEUE_FLAG_IO_STAT: writable on every disk; only a disk accounted IOSTATS or REQUESTS heeds it, and its counters then stay as they are.
        attributes.define("queue/iostats", () -> ioStats ? "1" : "0", value -> setIoStats(parseBool("iostats", value)));
        attributes.define("queue/logical_block_size", () -> Integer.toString(limits().logicalBlockSize()));
        attributes.define("queue/physical_block_size", () -> Integer.toString(limits().physicalBlockSize()));
        attributes.define("queue/hw_sector_size", () -> Integer.toString(limits().logicalBlockSize()));
        attributes.define("queue/minimum_io_size", () -> Long.toString(limits().ioMin()));
        attributes.define("queue/optimal_io_size", () -> Long.toString(limits().ioOpt()));
        attributes.define("queue/max_sectors_kb", () -> Long.toString(limits.maxSectors() >> 1), this::storeMaxSectorsKb);
        // queue_ra_show / queue_ra_store: kilobytes, whole pages kept.
        attributes.define("queue/read_ahead_kb", () -> Long.toString(readAheadPages << (Units.PAGE_SHIFT - 10)),
                value -> readAheadPages = parseUnsignedInt("read_ahead_kb", value) >> (Units.PAGE_SHIFT - 10));
        attributes.define("queue/max_hw_sectors_kb", () -> Long.toString(limits.maxHwSectors() >> 1));
        attributes.define("queue/chunk_sectors", () -> Long.toString(limits.chunkSectors()));
        attributes.define("queue/discard_granularity", () -> Long.toString(limits.discardGranularity()));
        attributes.define("queue/discard_max_bytes", () -> Long.toString(limits.maxDiscardSectors() << Units.SECTOR_SHIFT), this::storeDiscardMaxBytes);
        attributes.define("queue/discard_max_hw_bytes", () -> Long.toString(limits.maxHwDiscardSectors() << Units.SECTOR_SHIFT));
        attributes.define("queue/write_zeroes_max_bytes", () -> Long.toString(limits.maxWriteZeroesSectors() << Units.SECTOR_SHIFT));
        // Every device here is memory (or stacked on memory): none is rotational, as brd, pmem and dm over them
        // say; an administrator may say otherwise (queue_nonrot_store), until a mapped device's next table.
        attributes.define("queue/rotational", () -> rotational ? "1" : "0", value -> rotational = parseUnsignedInt("rotational", value) != 0);
        defineFixedQueueAttributes();
        attributes.define("alignment_offset", () -> Long.toString(limits.alignmentOffset()));
        attributes.define("discard_alignment", () -> Long.toString(limits.discardAlignment()));
        attributes.define("queue/dax", () -> limits.dax() ? "1" : "0");
        attributes.define("queue/fua", () -> fua ? "1" : "0");
        attributes.define("queue/write_cache", () -> writeCache ? "write back" : "write through", value -> {
            // queue_wc_store accepts exactly these words.
            switch (value) {
                case "write back" -> setWriteCache(true);
                case "write through", "none" -> setWriteCache(false);
                default -> throw new IllegalArgumentException("write_cache: Invalid argument: '" + value
                        + "' (expected \"write back\" or \"write through\")");
            }
        });
        if (dax != null) {
            attributes.define("dax/write_cache", () -> dax.writeCache() ? "1" : "0", value -> dax.setWriteCache(parseBool(value)));
        }
    }

    /**
     * blk-sysfs.c's attributes that follow from the limits or that a bio-based queue (brd, pmem,
     * dm: blk_alloc_disk) shows as blk_alloc_queue and blk_set_default_limits leave them: no
     * scheduler, no zones, no polling, no merging flags, nothing for entropy or stable pages.
     * nr_requests is BLKDEV_DEFAULT_RQ and only blk-mq queues take a new one.
     */
    private void defineFixedQueueAttributes() {
        attributes.define("queue/max_segments", () -> Integer.toString(limits.maxSegments()));
        attributes.define("queue/max_discard_segments", () -> Integer.toString(limits.maxDiscardSegments()));
        attributes.define("queue/max_integrity_segments", () -> "0");
        attributes.define("queue/max_segment_size", () -> Long.toString(limits.maxSegmentSize()));
        if (accounting != IoAccounting.REQUESTS) {
            attributes.define("queue/nr_requests", () -> "128", value -> {
                throw new IllegalArgumentException("nr_requests: Invalid argument");
            });
            attributes.define("queue/scheduler", () -> "none");
            attributes.define("queue/io_poll_delay", () -> "0");
            attributes.define("queue/rq_affinity", () -> "0");
        }
        attributes.define("queue/discard_zeroes_data", () -> "0");
        attributes.define("queue/write_same_max_bytes", () -> "0");
        attributes.define("queue/zone_append_max_bytes", () -> "0");
        attributes.define("queue/zone_write_granularity", () -> "0");
        attributes.define("queue/zoned", () -> "none");
        attributes.define("queue/nr_zones", () -> "0");
        attributes.define("queue/nomerges", () -> "0");
        attributes.define("queue/io_poll", () -> "0");
        attributes.define("queue/add_random", () -> "0");
        attributes.define("queue/stable_writes", () -> "0");
        attributes.define("queue/virt_boundary_mask", () -> "0");
        attributes.define("queue/dma_alignment", () -> "511");
    }

    /**
     * disk_badblocks_store (badblocks_store): "SECTOR LENGTH" marks sectors bad in the driver's
     * list; a disk without one (disk->bb NULL: brd, dm) answers ENXIO.
     */
    private void storeBadBlocks(String value) {
        if (!hasBadBlocks) throw new IllegalArgumentException("badblocks: No such device or address");
        String[] words = value.split(" ", -1);
        long sector, length;
        try {
            if (words.length != 2) throw new NumberFormatException();
            sector = Long.parseUnsignedLong(words[0]);
            length = Integer.parseInt(words[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("badblocks: Invalid argument: '" + value + "' (expected SECTOR LENGTH)");
        }
        if (length <= 0) throw new IllegalArgumentException("badblocks: Invalid argument: '" + value + "' (expected SECTOR LENGTH)");
        badBlocks.set(sector, length);
    }

    /** queue_max_sectors_store: between a page and max_hw_sectors_kb, or EINVAL. */
    private void storeMaxSectorsKb(String value) {
        long kb = parseUnsignedInt("max_sectors_kb", value);
        QueueLimits l = limits;
        if (kb > l.maxHwSectors() >> 1 || kb < Units.PAGE_SIZE / 1024) {
            throw new IllegalArgumentException("max_sectors_kb: Invalid argument: " + value + " (between " + Units.PAGE_SIZE / 1024 + " and "
                    + (l.maxHwSectors() >> 1) + ")");
        }
        limits = l.copy().setMaxSectors(kb << 1);
    }

    /** queue_discard_max_store: a multiple of discard_granularity, at most discard_max_hw_bytes. */
    private void storeDiscardMaxBytes(String value) {
        long bytes = parseUnsignedInt("discard_max_bytes", value);
        QueueLimits l = limits;
        if ((bytes & ((l.discardGranularity() - 1) & UNSIGNED_INT_MAX)) != 0) {
            throw new IllegalArgumentException("discard_max_bytes: Invalid argument: " + value);
        }
        limits = l.copy().setMaxDiscardSectors(bytes >> Units.SECTOR_SHIFT);
    }

    private static final long UNSIGNED_INT_MAX = 0xffffffffL;

    /** kstrtobool: 1/0, y/n, on/off, true/false. */
    static boolean parseBool(String value) {
        return parseBool("write_cache", value);
    }

    /** kstrtobool, refusing in the name of {@code attribute}. */
    static boolean parseBool(String attribute, String value) {
        switch (value.toLowerCase(Locale.ROOT)) {
            case "1", "y", "yes", "on", "true" -> { return true; }
            case "0", "n", "no", "off", "false" -> { return false; }
            default -> throw new IllegalArgumentException(attribute + ": Invalid argument: '" + value + "' (expected 1 or 0)");
        }
    }

    /** queue_var_store: kstrtoul in base 10 (a trailing newline allowed), at most UINT_MAX. */
    static long parseUnsignedInt(String attribute, String value) {
        String digits = value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
        if (digits.startsWith("+")) digits = digits.substring(1);
        if (!digits.matches("\\d{1,10}") || Long.parseLong(digits) > 0xffffffffL) {
            throw new IllegalArgumentException(attribute + ": Invalid argument: '" + value.strip() + "'");
        }
        return Long.parseLong(digits);
    }

    @Override
    public String toString() {
        return name + " (" + devt + ")";
    }
}
