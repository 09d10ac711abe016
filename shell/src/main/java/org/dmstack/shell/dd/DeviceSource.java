package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;

/** A block device read through bios (if=/dev/NAME). */
final class DeviceSource implements Source {
    private final DeviceIo io;

    DeviceSource(DeviceIo io) {
        this.io = io;
    }

    @Override
    public long read(long pos, MemorySegment dst) throws DdError {
        try {
            return io.read(pos, dst);
        } catch (DeviceIo.IoError e) {
            throw DdError.io(e);
        }
    }

    @Override
    public long size() {
        return io.size();
    }
}
