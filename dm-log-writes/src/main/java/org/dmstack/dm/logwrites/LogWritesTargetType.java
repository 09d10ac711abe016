package org.dmstack.dm.logwrites;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.QueueLimits;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetArgs;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.dmstack.units.Units;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "log-writes" target (Linux 6.1's dm-log-writes.c): passes every bio to {@code <dev>} and
 * records every write, flush, FUA and discard on {@code <log dev>} in the format of
 * {@link LogFormat}, for replaying later with {@link ReplayLog}.
 *
 * <pre>{@code <start> <length> log-writes <dev> <log dev>}</pre>
 *
 * Writes are logged in the order they reach the disk's media, not the order they were sent: a
 * completed write waits until a flush completes (or is logged at once when it is FUA), so a
 * replay up to a flush shows exactly what that flush made durable. {@code dmsetup message NAME 0
 * mark NAME} adds a mark entry. Status: {@code <logged entries> <highest allocated sector>}, then
 * {@code logging_disabled} once logging has stopped (log device full or failing).
 *
 * <p>As in Linux, sectors are passed to {@code <dev>} unchanged (not relative to the target's
 * start), and DAX accesses pass straight through to {@code <dev>} without being logged: 6.1 has
 * {@code direct_access} for log-writes but no longer records DAX writes.
 */
@Component(service = TargetType.class)
public final class LogWritesTargetType implements TargetType {
    private static final Logger LOG = LoggerFactory.getLogger(LogWritesTargetType.class);

    @Override
    public String name() {
        return "log-writes";
    }

    @Override
    public int[] version() {
        return new int[] {1, 1, 0};
    }

    /** log_writes_ctr: {@code <dev> <log dev>} (arguments after these two are ignored, as in Linux). */
    @Override
    public Target construct(TargetContext context) throws TargetException {
        if (context.args().size() < 2) throw new TargetException("Invalid argument count");
        TargetArgs as = context.argSet();
        BlockDevice dev = as.device(as.shift(), "Device lookup failed");
        BlockDevice logdev = as.device(as.shift(), "Log device lookup failed");
        return new LogWrites(dev, logdev, context.length(), context.mappedDeviceName());
    }

    /** A write, flush, discard or mark waiting to be logged (struct pending_block). */
    private static final class PendingBlock {
        long flags;
        long sector;
        long nrSectors;
        /** The data written, copied: the writer may reuse its buffer once the bio ends. */
        byte[] data;
        /** A mark's name. */
        byte[] mark;
        /** For a flush: the writes that completed before it, logged just ahead of it. */
        List<PendingBlock> flushed = List.of();
    }

    /** One log-writes table line (struct log_writes_c), with its logging thread (log_writes_kthread). */
    static final class LogWrites implements Target {
        private final BlockDevice dev;
        private final BlockDevice logdev;
        private final long len;
        private final int sectorsize;
        private final Thread kthread;

        // Guarded by this (blocks_lock).
        private long loggedEntries;
        private long nextSector;
        private long endSector;
        private boolean loggingEnabled = true;
        /** Set by ioHints when dev cannot discard: discards are then logged and ended here. */
        private volatile boolean deviceSupportsDiscard = true;
        private final ArrayDeque<PendingBlock> unflushed = new ArrayDeque<>();
        private final ArrayDeque<PendingBlock> logging = new ArrayDeque<>();
        private int pendingBlocks;
        private boolean busy; // the thread is logging a block it took
        private boolean stopping;

        LogWrites(BlockDevice dev, BlockDevice logdev, long len, String mappedDeviceName) {
            this.dev = dev;
            this.logdev = logdev;
            this.len = len;
            this.sectorsize = dev.limits().logicalBlockSize();
            // next_sector counts 512-byte sectors; the super block takes the first log sector.
            this.nextSector = sectorsize >> Units.SECTOR_SHIFT;
            this.endSector = logdev.capacity();
            this.kthread = Thread.ofPlatform().daemon().name("log-write " + mappedDeviceName).start(this::kthread);
        }

        private long bioToDevSectors(long sectors) {
            return sectors / (sectorsize >> Units.SECTOR_SHIFT);
        }

        private long devToBioSectors(long sectors) {
            return sectors * (sectorsize >> Units.SECTOR_SHIFT);
        }

        /** log_writes_map: reads pass; a write is copied and logged once it is on the media. */
        @Override
        public MapResult map(Bio bio) {
            boolean flushBio = bio.hasFlag(BioFlag.PREFLUSH);
            boolean discardBio = bio.op() == BioOp.DISCARD;
            synchronized (this) {
                if (!loggingEnabled || bio.op() == BioOp.READ || bio.sectors() == 0 && !flushBio) {
                    bio.remap(dev, bio.sector());
                    return MapResult.REMAPPED;
                }
                pendingBlocks++;
            }
            PendingBlock block = new PendingBlock();
            if (flushBio) block.flags |= LogFormat.FLUSH;
            if (bio.hasFlag(BioFlag.FUA)) block.flags |= LogFormat.FUA;
            if (discardBio) block.flags |= LogFormat.DISCARD;
            block.sector = bioToDevSectors(bio.sector());
            block.nrSectors = bioToDevSectors(bio.sectors());
            if (bio.data() != null) block.data = bio.data().toArray(ValueLayout.JAVA_BYTE);
            if (discardBio && !deviceSupportsDiscard) {
                // As 6.1: logged as if the device had done it, and never sent to a device that cannot.
                endIo(block);
                bio.endio(BlkStatus.OK);
                return MapResult.SUBMITTED;
            }
            if (flushBio) {
                synchronized (this) {
                    block.flushed = new ArrayList<>(unflushed);
                    unflushed.clear();
                }
            }
            // Our own bio to dev, so its end can queue the block before the clone above ends (normal_end_io).
            Bio child = bio.clone(0, bio.size());
            child.remap(dev, bio.sector());
            child.setEndIo((c, status) -> {
                endIo(block);
                bio.endio(status);
            });
            dev.submit(child);
            return MapResult.SUBMITTED;
        }

        /** normal_end_io: a flush logs what completed before it, then itself; FUA logs at once; others wait for a flush. */
        private synchronized void endIo(PendingBlock block) {
            if ((block.flags & LogFormat.FLUSH) != 0) {
                logging.addAll(block.flushed);
                block.flushed = List.of();
                logging.add(block);
                notifyAll();
            } else if ((block.flags & LogFormat.FUA) != 0) {
                logging.add(block);
                notifyAll();
            } else {
                unflushed.add(block);
            }
        }

        /** log_mark: the name, cut to what fits in the entry's sector with its NUL. */
        private synchronized void logMark(String name) {
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            int maxsize = sectorsize - LogFormat.ENTRY_SIZE;
            PendingBlock block = new PendingBlock();
            block.mark = Arrays.copyOf(bytes, Math.min(bytes.length, maxsize - 1));
            block.flags = LogFormat.MARK;
            pendingBlocks++;
            logging.add(block);
            notifyAll();
        }

        /** log_writes_kthread: takes blocks in order, places them in the log, writes them. */
        private void kthread() {
            while (true) {
                PendingBlock block;
                long sector = 0;
                boolean superBlock = false;
                boolean enabled;
                synchronized (this) {
                    while (logging.isEmpty() && !stopping) {
                        try {
                            wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    block = logging.poll();
                    if (block == null) return;
                    busy = true;
                    if (loggingEnabled) {
                        sector = nextSector;
                        if ((block.flags & LogFormat.DISCARD) == 0) nextSector += devToBioSectors(block.nrSectors);
                        nextSector += devToBioSectors(1);
                        if (endSector == 0) endSector = logdev.capacity();
                        if (endSector != 0 && nextSector >= endSector) {
                            LOG.error("log-writes: Ran out of space on the logdev");
                            loggingEnabled = false;
                        } else {
                            loggedEntries++;
                            superBlock = (block.flags & (LogFormat.FUA | LogFormat.MARK)) != 0;
                        }
                    }
                    enabled = loggingEnabled;
                }
                if (enabled) {
                    boolean ok = logOneBlock(block, sector) && (!superBlock || logSuper());
                    if (!ok) {
                        synchronized (this) {
                            loggingEnabled = false;
                        }
                    }
                }
                synchronized (this) {
                    pendingBlocks--;
                    busy = false;
                    notifyAll();
                }
            }
        }

        /** log_one_block: the entry's sector (with a mark's name), then the data after it. */
        private boolean logOneBlock(PendingBlock block, long sector) {
            byte[] markName = block.mark == null ? new byte[0] : block.mark;
            LogFormat.Entry entry = new LogFormat.Entry(block.sector, block.nrSectors, block.flags, markName.length, markName, false);
            MemorySegment meta = MemorySegment.ofArray(new byte[sectorsize]);
            entry.encode(meta);
            if (!write(sector, meta)) return false;
            if (block.data == null || block.data.length == 0) return true;
            return write(sector + devToBioSectors(1), MemorySegment.ofArray(block.data));
        }

        /** log_super: rewrites the super block with the entries logged so far. */
        private boolean logSuper() {
            long entries;
            synchronized (this) {
                entries = loggedEntries;
            }
            MemorySegment buf = MemorySegment.ofArray(new byte[sectorsize]);
            new LogFormat.Super(LogFormat.MAGIC, LogFormat.VERSION, entries, sectorsize).encode(buf);
            if (!write(LogFormat.SUPER_SECTOR, buf)) {
                LOG.error("log-writes: Couldn't write super");
                return false;
            }
            return true;
        }

        /** One write to the log device, waited for (log_end_io: an error stops logging). */
        private boolean write(long sector, MemorySegment data) {
            Bio bio = Bio.write(sector, data);
            logdev.submit(bio);
            BlkStatus status = bio.await();
            if (!status.isOk()) {
                LOG.error("log-writes: Error writing log block, error={}", status);
                return false;
            }
            return true;
        }

        /** Waits until the blocks queued for logging so far are in the log (or dropped): what a test waits for. */
        synchronized void awaitLogged() throws InterruptedException {
            while (!logging.isEmpty() || busy) wait();
        }

        /** log_writes_dtr: logs what has not been flushed yet and a closing mark, then stops. */
        @Override
        public void destroy() {
            synchronized (this) {
                if (stopping) return; // destroyed already
                logging.addAll(unflushed);
                unflushed.clear();
            }
            logMark(LogFormat.END_MARK);
            boolean interrupted = false;
            synchronized (this) {
                while (pendingBlocks > 0) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                        break;
                    }
                }
                stopping = true;
                notifyAll();
            }
            try {
                kthread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (interrupted) Thread.currentThread().interrupt();
        }

        /** INFO: {@code <logged entries> <highest allocated sector>[ logging_disabled]}. TABLE: {@code <dev> <log dev>}. */
        @Override
        public synchronized String status(StatusType type) {
            return switch (type) {
                case INFO -> Long.toUnsignedString(loggedEntries) + " " + Long.toUnsignedString(nextSector - 1)
                        + (loggingEnabled ? "" : " logging_disabled");
                case TABLE -> dev.devt() + " " + logdev.devt();
            };
        }

        /** log_writes_message: {@code mark <name>}. */
        @Override
        public String message(List<String> args) throws TargetException {
            if (args.size() != 2) {
                String why = "Invalid log-writes message arguments, expect 2 arguments, got " + args.size();
                LOG.warn("log-writes: {}", why);
                throw new TargetException(why);
            }
            if (!args.get(0).equalsIgnoreCase("mark")) {
                String why = "Unrecognised log writes target message received: " + args.get(0);
                LOG.warn("log-writes: {}", why);
                throw new TargetException(why);
            }
            logMark(args.get(1));
            return "";
        }

        /** log_writes_iterate_devices: the first {@code len} sectors of dev (the log device is not a data device). */
        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            visitor.visit(dev, 0, len);
        }

        /**
         * log_writes_io_hints: the data device's block sizes; io_min its physical block size; and
         * when the data device cannot discard, discards of up to UINT_MAX >> 9 sectors with a
         * granularity of one log sector, which map logs and ends itself.
         */
        @Override
        public void ioHints(QueueLimits limits) {
            QueueLimits d = dev.limits();
            if (d.maxDiscardSectors() == 0) {
                deviceSupportsDiscard = false;
                limits.setDiscard(QueueLimits.UNLIMITED >> Units.SECTOR_SHIFT, sectorsize);
            }
            limits.setLogicalBlockSize(d.logicalBlockSize());
            limits.setPhysicalBlockSize(d.physicalBlockSize());
            limits.setIoMin(d.physicalBlockSize());
        }

        /** 6.1 sets flush_supported: the mapped device has a write cache and FUA, so every flush reaches the log. */
        @Override
        public boolean flushSupported() {
            return true;
        }

        /** 6.1 sets discards_supported: discards are taken (and logged) even when dev cannot do them. */
        @Override
        public boolean discardsSupported() {
            return true;
        }

        /** Linux sends log-writes no WRITE_ZEROES (it sets no num_write_zeroes_bios). */
        @Override
        public int numWriteZeroesBios() {
            return 0;
        }

        @Override
        public boolean supportsDax() {
            return true;
        }

        // DAX (log_writes_dax_direct_access): straight to dev at the same page, not logged, as in 6.1.

        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            Target.daxDevice(dev).directAccess(pgoff, nrPages, map);
        }
    }
}
