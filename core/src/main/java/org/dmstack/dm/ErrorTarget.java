package org.dmstack.dm;

import org.dmstack.block.Bio;

/** Linux's "error" target: every I/O fails. Takes no arguments. */
final class ErrorTarget implements Target {
    static final class Type implements TargetType {
        @Override
        public String name() {
            return "error";
        }

        @Override
        public int[] version() {
            return new int[] {1, 6, 0};
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

    @Override
    public String status(StatusType type) {
        return "";
    }

    @Override
    public void iterateDevices(DeviceVisitor visitor) {}
}
