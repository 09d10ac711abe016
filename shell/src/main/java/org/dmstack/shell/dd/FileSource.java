package org.dmstack.shell.dd;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An ordinary file read with positional reads (if=FILE). */
final class FileSource implements Source {
    private final FileChannel channel;

    private FileSource(FileChannel channel) {
        this.channel = channel;
    }

    static FileSource open(Path path) throws IOException {
        return new FileSource(FileChannel.open(path, StandardOpenOption.READ));
    }

    @Override
    public long read(long pos, MemorySegment dst) throws DdError {
        ByteBuffer bb = dst.asByteBuffer();
        try {
            while (bb.hasRemaining()) {
                if (channel.read(bb, pos + bb.position()) < 0) break;
            }
        } catch (IOException e) {
            throw new DdError(Endpoints.reason(e));
        }
        return bb.position();
    }

    @Override
    public long size() {
        try {
            return channel.size();
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // only read from: nothing to lose
        }
    }
}
