package org.dmstack.dm;

import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDevice;
import org.dmstack.dax.DaxMapping;

/**
 * A linear-like target for core's own tests (core does not know dm-linear):
 * {@code <dev> <offset> [max_io_len]}.
 */
final class TestLinear implements Target {
    static final class Type implements TargetType {
        @Override
        public String name() {
            return "testlinear";
        }

        @Override
        public Target construct(TargetContext ctx) throws TargetException {
            if (ctx.args().size() < 2) throw new TargetException("Invalid argument count");
            long offset;
            try {
                offset = Long.parseUnsignedLong(ctx.args().get(1));
            } catch (NumberFormatException e) {
                throw new TargetException("Invalid device sector");
            }
            BlockDevice dev;
            try {
                dev = ctx.getDevice(ctx.args().get(0));
            } catch (TargetException e) {
                throw new TargetException("Device lookup failed", e);
            }
            long maxIo = ctx.args().size() > 2 ? Long.parseLong(ctx.args().get(2)) : 0;
            return new TestLinear(dev, ctx.begin(), ctx.length(), offset, maxIo);
        }
    }

    final BlockDevice dev;
    final long begin, length, offset, maxIo;

    TestLinear(BlockDevice dev, long begin, long length, long offset, long maxIo) {
        this.dev = dev;
        this.begin = begin;
        this.length = length;
        this.offset = offset;
        this.maxIo = maxIo;
    }

    @Override
    public MapResult map(Bio bio) {
        bio.remap(dev, bio.op() == BioOp.FLUSH ? 0 : offset + bio.sector() - begin);
        return MapResult.REMAPPED;
    }

    @Override
    public long maxIoLen() {
        return maxIo;
    }

    @Override
    public String status(StatusType type) {
        return type == StatusType.TABLE ? dev.devt() + " " + offset : "";
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
        return Target.daxPgoff(dev, offset + pgoff * 8 - begin);
    }

    @Override
    public void directAccess(long pgoff, long nrPages, DaxMapping map) {
        Target.daxDevice(dev).directAccess(devPgoff(pgoff), nrPages, map);
    }
}
