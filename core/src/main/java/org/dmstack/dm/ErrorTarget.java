package org.dmstack.dm;

import org.dmstack.block.Bio;

/**
 * Linux 6.1's "error" target (dm-target.c, v1.5.0): every I/O fails. Any arguments are taken
 * and ignored (DM_TARGET_WILDCARD); it has no devices, so the table takes no discards (6.4 added them).
 */
final class ErrorTarget implements DevicelessTarget {
    static final class Type implements TargetType {
        @Override
        public String name() {
            return "error";
        }

        @Override
        public int[] version() {
            return new int[] {1, 5, 0};
        }

        @Override
        public Target construct(TargetContext context) {
            return new ErrorTarget();
        }
    }

    @Override
    public MapResult map(Bio bio) {
        return MapResult.KILL;
    }
}
