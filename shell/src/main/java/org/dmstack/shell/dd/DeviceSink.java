package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;

/** A block device written through bios (of=/dev/NAME); it ends where the device does. */
final class DeviceSink implements Sink {
    private final DeviceIo io;

    DeviceSink(DeviceIo io) {
        this.io = io;
    }

    @Override
    public void write(long pos, MemorySegment src) throws DdError {
        try {
            io.write(pos, src);
        } catch (DeviceIo.IoError e) {
            throw DdError.io(e);
        }
    }

    @Override
    public long limit() {
        return io.size();
    }

    @Override
    public void sync() throws DdError {
        try {
            io.flush();
        } catch (DeviceIo.IoError e) {
            throw DdError.io(e);
        }
    }
}
