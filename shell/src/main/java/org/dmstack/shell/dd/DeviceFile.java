package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;
import org.dmstack.block.BdevHandle;

/**
 * A block device as dd opens it (if=/dev/NAME or of=/dev/NAME): read and written through bios,
 * ending where the device does, and open (one of the device's openers) until dd closes it.
 */
final class DeviceFile implements Source, Sink {
    private final DeviceIo io;
    private final BdevHandle open;

    DeviceFile(DeviceIo io, BdevHandle open) {
        this.io = io;
        this.open = open;
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

    @Override
    public void write(long pos, MemorySegment src) throws DdError {
        // blkdev_write_iter: write(2) to a read-only block device fails with EPERM before any bio.
        if (io.readOnly()) throw new DdError("Operation not permitted");
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

    @Override
    public void close() {
        open.close();
    }
}
