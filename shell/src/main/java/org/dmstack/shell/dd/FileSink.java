package org.dmstack.shell.dd;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An ordinary file written with positional writes (of=FILE), created when missing. */
final class FileSink implements Sink {
    private final FileChannel channel;

    private FileSink(FileChannel channel) {
        this.channel = channel;
    }

    /** @param truncateTo the size to cut the file to first, or -1 to keep it (conv=notrunc) */
    static FileSink open(Path path, long truncateTo) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        try {
            if (truncateTo >= 0 && ch.size() > truncateTo) ch.truncate(truncateTo);
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new FileSink(ch);
    }

    @Override
    public void write(long pos, MemorySegment src) throws DdError {
        ByteBuffer bb = src.asByteBuffer();
        try {
            while (bb.hasRemaining()) channel.write(bb, pos + bb.position());
        } catch (IOException e) {
            throw new DdError(Endpoints.reason(e));
        }
    }

    @Override
    public long limit() {
        return Long.MAX_VALUE;
    }

    @Override
    public void sync() throws DdError {
        try {
            channel.force(true);
        } catch (IOException e) {
            throw new DdError(Endpoints.reason(e));
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // sync() already reported what matters
        }
    }
}
