package org.dmstack.dm;

/**
 * What Linux 6.1's zero and error targets share: no devices, empty status lines, and no flushes
 * or write-zeroes sent to them (their constructors leave num_flush_bios and num_write_zeroes_bios
 * at 0, so a flush of a table holding one succeeds without asking it).
 */
interface DevicelessTarget extends Target {
    @Override
    default String status(StatusType type) {
        return "";
    }

    @Override
    default void iterateDevices(DeviceVisitor visitor) {}

    @Override
    default int numFlushBios() {
        return 0;
    }

    @Override
    default int numWriteZeroesBios() {
        return 0;
    }
}
