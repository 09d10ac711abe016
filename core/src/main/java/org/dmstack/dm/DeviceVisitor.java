package org.dmstack.dm;

import org.dmstack.block.BlockDevice;

/** Receives each device a target uses and the area of it (iterate_devices). */
@FunctionalInterface
public interface DeviceVisitor {
    /** {@code start} and {@code length} are in sectors of {@code device}. */
    void visit(BlockDevice device, long start, long length);
}
