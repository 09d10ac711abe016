package org.dmstack.it.inside;

import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;

/**
 * A stand-in "linear" target type ({@code <dev> <offset>}) that the tests register as a service
 * while the dm-linear bundle has not landed; the real bundle replaces it when present.
 */
public final class TestLinear implements TargetType {
    @Override
    public String name() {
        return "linear";
    }

    @Override
    public int[] version() {
        return new int[] {1, 4, 0};
    }

    @Override
    public Target construct(TargetContext ctx) throws TargetException {
        if (ctx.args().size() != 2) throw new TargetException("Invalid argument count");
        BlockDevice dev = ctx.getDevice(ctx.args().get(0));
        long offset = Long.parseLong(ctx.args().get(1));
        long begin = ctx.begin(), len = ctx.length();
        return new Target() {
            @Override
            public MapResult map(Bio bio) {
                bio.remap(dev, bio.op() == BioOp.FLUSH ? 0 : offset + bio.sector() - begin);
                return MapResult.REMAPPED;
            }

            @Override
            public String status(StatusType type) {
                return type == StatusType.TABLE ? dev.devt() + " " + offset : "";
            }

            @Override
            public void iterateDevices(DeviceVisitor visitor) {
                visitor.visit(dev, offset, len);
            }
        };
    }
}
