package org.dmstack.dm.logwrites;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.units.Units;

/**
 * What replay-log reads a log from and replays onto, byte-addressed as the xfstests tool's
 * {@code pread}/{@code pwrite} on a file descriptor: a block device (positions and lengths whole
 * logical blocks, as every offset in a log is) or a file.
 */
public interface ByteDevice {
    /** Reads exactly {@code dst.byteSize()} bytes at {@code pos}. */
    void read(long pos, MemorySegment dst) throws IOException;

    /** Writes {@code src} at {@code pos}. */
    void write(long pos, MemorySegment src) throws IOException;

    /** BLKDISCARD: discards the range, or returns false when the device cannot. */
    boolean discard(long pos, long len);

    /** fsync: what was written is durable when it returns. */
    void sync() throws IOException;

    /** A block device, through bios. */
    static ByteDevice of(BlockDevice device) {
        return new ByteDevice() {
            @Override
            public void read(long pos, MemorySegment dst) throws IOException {
                check(Bio.read(pos >> Units.SECTOR_SHIFT, dst), pos, dst.byteSize());
            }

            @Override
            public void write(long pos, MemorySegment src) throws IOException {
                check(Bio.write(pos >> Units.SECTOR_SHIFT, src), pos, src.byteSize());
            }

            @Override
            public boolean discard(long pos, long len) {
                Bio bio = Bio.discard(pos >> Units.SECTOR_SHIFT, len);
                device.submit(bio);
                return bio.await().isOk();
            }

            @Override
            public void sync() throws IOException {
                check(Bio.flush(), 0, 0);
            }

            private void check(Bio bio, long pos, long len) throws IOException {
                if ((pos | len) % Units.SECTOR_SIZE != 0) throw new IOException(device.name() + ": " + len + " bytes at " + pos + " are not whole sectors");
                device.submit(bio);
                BlkStatus status = bio.await();
                if (!status.isOk()) throw new IOException(status.message());
            }

            @Override
            public String toString() {
                return device.name();
            }
        };
    }

    /** A file, open for reading (and writing, to replay onto it). Files have no discard: replay writes zeros. */
    static ByteDevice of(FileChannel file) {
        return new ByteDevice() {
            @Override
            public void read(long pos, MemorySegment dst) throws IOException {
                var buf = dst.asByteBuffer();
                while (buf.hasRemaining()) {
                    if (file.read(buf, pos + buf.position()) < 0) throw new IOException("end of file at " + (pos + buf.position()));
                }
            }

            @Override
            public void write(long pos, MemorySegment src) throws IOException {
                var buf = src.asByteBuffer();
                while (buf.hasRemaining()) file.write(buf, pos + buf.position());
            }

            @Override
            public boolean discard(long pos, long len) {
                return false;
            }

            @Override
            public void sync() throws IOException {
                file.force(true);
            }
        };
    }
}
