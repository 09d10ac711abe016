package org.dmstack.metrics;

import java.util.function.ToLongFunction;
import org.dmstack.block.Attributes;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DiskStats.Snapshot;
import org.dmstack.dax.DaxDevice;

/** One device's MBean: reads its attributes (stat and inflight as sysfs shows them), limits and DAX device when asked. */
final class DeviceMetrics implements DaxBlockDeviceMXBean {
    private final BlockDevice device;

    DeviceMetrics(BlockDevice device) {
        this.device = device;
    }

    private Snapshot stat() {
        Attributes a = device.attributes();
        return a.has("stat") ? Snapshot.parse(a.read("stat")) : Snapshot.ZERO;
    }

    /** Field {@code i} of the inflight attribute: 0 reads, 1 writes. */
    private long inflight(int i) {
        Attributes a = device.attributes();
        return a.has("inflight") ? Long.parseLong(a.read("inflight").strip().split("\\s+")[i]) : 0;
    }

    private long dax(ToLongFunction<DaxDevice> count) {
        DaxDevice dax = device.dax();
        return dax == null ? 0 : count.applyAsLong(dax);
    }

    @Override
    public String getName() {
        return device.name();
    }

    @Override
    public String getDevt() {
        return device.devt().toString();
    }

    @Override
    public String getDmName() {
        return device.attributes().has("dm/name") ? device.attributes().read("dm/name") : "";
    }

    @Override
    public long getSizeSectors() {
        return device.capacity();
    }

    @Override
    public long getReadIos() {
        return stat().readIos();
    }

    @Override
    public long getReadMerges() {
        return stat().readMerges();
    }

    @Override
    public long getReadSectors() {
        return stat().readSectors();
    }

    @Override
    public long getReadTicks() {
        return stat().readTicks();
    }

    @Override
    public long getWriteIos() {
        return stat().writeIos();
    }

    @Override
    public long getWriteMerges() {
        return stat().writeMerges();
    }

    @Override
    public long getWriteSectors() {
        return stat().writeSectors();
    }

    @Override
    public long getWriteTicks() {
        return stat().writeTicks();
    }

    @Override
    public long getInFlight() {
        return stat().inFlight();
    }

    @Override
    public long getIoTicks() {
        return stat().ioTicks();
    }

    @Override
    public long getTimeInQueue() {
        return stat().timeInQueue();
    }

    @Override
    public long getDiscardIos() {
        return stat().discardIos();
    }

    @Override
    public long getDiscardMerges() {
        return stat().discardMerges();
    }

    @Override
    public long getDiscardSectors() {
        return stat().discardSectors();
    }

    @Override
    public long getDiscardTicks() {
        return stat().discardTicks();
    }

    @Override
    public long getFlushIos() {
        return stat().flushIos();
    }

    @Override
    public long getFlushTicks() {
        return stat().flushTicks();
    }

    @Override
    public long getInFlightReads() {
        return inflight(0);
    }

    @Override
    public long getInFlightWrites() {
        return inflight(1);
    }

    @Override
    public long[] getStat() {
        Snapshot s = stat();
        return new long[] {s.readIos(), s.readMerges(), s.readSectors(), s.readTicks(), s.writeIos(), s.writeMerges(),
            s.writeSectors(), s.writeTicks(), s.inFlight(), s.ioTicks(), s.timeInQueue(), s.discardIos(),
            s.discardMerges(), s.discardSectors(), s.discardTicks(), s.flushIos(), s.flushTicks()};
    }

    @Override
    public int getLogicalBlockSize() {
        return device.limits().logicalBlockSize();
    }

    @Override
    public int getPhysicalBlockSize() {
        return device.limits().physicalBlockSize();
    }

    @Override
    public long getMinimumIoSize() {
        return device.limits().ioMin();
    }

    @Override
    public long getOptimalIoSize() {
        return device.limits().ioOpt();
    }

    @Override
    public long getMaxSectorsKb() {
        return device.limits().maxSectors() >> 1;
    }

    @Override
    public boolean isWriteCache() {
        return device.writeCache();
    }

    @Override
    public boolean isFua() {
        return device.fua();
    }

    @Override
    public boolean isDax() {
        return device.dax() != null;
    }

    @Override
    public boolean isDaxWriteCache() {
        DaxDevice dax = device.dax();
        return dax != null && dax.writeCache();
    }

    @Override
    public long getDaxDirectAccessCalls() {
        return dax(DaxDevice::directAccessCount);
    }

    @Override
    public long getDaxCopyCalls() {
        return dax(DaxDevice::copyCount);
    }

    @Override
    public long getDaxFlushCalls() {
        return dax(DaxDevice::flushCount);
    }
}
