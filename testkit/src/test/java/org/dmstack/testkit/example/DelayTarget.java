package org.dmstack.testkit.example;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDevice;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetArgs;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.dmstack.iov.IovIter;

/**
 * An example target, Linux's dm-delay in miniature: {@code <dev> <offset> <delay_ms>} — maps
 * like linear, and holds each read and write for delay_ms before sending it down.
 */
public final class DelayTarget implements Target {
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dm-delay");
        t.setDaemon(true);
        return t;
    });

    public static final class Type implements TargetType {
        @Override
        public String name() {
            return "delay";
        }

        @Override
        public Target construct(TargetContext ctx) throws TargetException {
            if (ctx.args().size() != 3) throw new TargetException("Invalid argument count");
            TargetArgs as = ctx.argSet();
            String devname = as.shift();
            long offset = as.sector("Invalid device offset");
            long delay = as.u32("Invalid delay");
            return new DelayTarget(as.device(devname, "Device lookup failed"), ctx.begin(), ctx.length(), offset, delay);
        }
    }

    private final BlockDevice dev;
    private final long begin, length, offset, delayMs;

    private DelayTarget(BlockDevice dev, long begin, long length, long offset, long delayMs) {
        this.dev = dev;
        this.begin = begin;
        this.length = length;
        this.offset = offset;
        this.delayMs = delayMs;
    }

    private long mapSector(long sector) {
        return offset + sector - begin;
    }

    @Override
    public MapResult map(Bio bio) {
        bio.remap(dev, bio.op() == BioOp.FLUSH ? 0 : mapSector(bio.sector()));
        if (delayMs == 0 || !bio.op().hasData()) return MapResult.REMAPPED;
        TIMER.schedule(() -> dev.submit(bio), delayMs, TimeUnit.MILLISECONDS);
        return MapResult.SUBMITTED;
    }

    /** TABLE: {@code <maj:min> <offset> <delay_ms>}; INFO: nothing. */
    @Override
    public String status(StatusType type) {
        return type == StatusType.TABLE ? dev.devt() + " " + offset + " " + delayMs : "";
    }

    @Override
    public void iterateDevices(DeviceVisitor visitor) {
        visitor.visit(dev, offset, length);
    }

    @Override
    public boolean supportsDax() {
        return true;
    }

    private long devPgoff(long pgoff) {
        return Target.daxPgoff(dev, mapSector(pgoff * 8));
    }

    @Override
    public DaxMapping directAccess(long pgoff, long nrPages) {
        return Target.daxDevice(dev).directAccess(devPgoff(pgoff), nrPages);
    }

    @Override
    public long copyFromIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        return Target.daxDevice(dev).copyFromIter(devPgoff(pgoff), addr, bytes, iter);
    }

    @Override
    public long copyToIter(long pgoff, MemorySegment addr, long bytes, IovIter iter) {
        return Target.daxDevice(dev).copyToIter(devPgoff(pgoff), addr, bytes, iter);
    }

    @Override
    public void flush(long pgoff, MemorySegment addr, long size) {
        Target.daxDevice(dev).flush(devPgoff(pgoff), addr, size);
    }
}
