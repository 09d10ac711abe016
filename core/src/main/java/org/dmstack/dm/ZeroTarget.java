package org.dmstack.dm;

import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;

/**
 * Linux 6.1's "zero" target (dm-zero.c, v1.1.0): reads return zeros, writes are discarded. Takes
 * no arguments. It has no devices, so the table takes no discards (6.4 added them).
 */
final class ZeroTarget implements DevicelessTarget {
    static final class Type implements TargetType {
        @Override
        public String name() {
            return "zero";
        }

        @Override
        public int[] version() {
            return new int[] {1, 1, 0};
        }

        @Override
        public Target construct(TargetContext context) throws TargetException {
            if (!context.args().isEmpty()) throw new TargetException("No arguments required");
            return new ZeroTarget();
        }
    }

    @Override
    public MapResult map(Bio bio) {
        if (bio.op() == BioOp.READ) bio.data().fill((byte) 0);
        bio.endio(BlkStatus.OK);
        return MapResult.SUBMITTED;
    }
}
