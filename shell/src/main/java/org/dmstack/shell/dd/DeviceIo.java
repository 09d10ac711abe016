package org.dmstack.shell.dd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CompletionException;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.units.Units;

/**
 * Byte-addressed reads and writes on a block device, as a buffered open of /dev/NAME gives a
 * tool: requests are turned into bios aligned to the logical block size, with read-modify-write
 * for partial blocks at the ends.
 */
final class DeviceIo {
    /** The largest bio sent at once. */
    private static final long MAX_BIO = 1 << 20;

    /** An I/O that failed: the status the device gave. */
    static final class IoError extends Exception {
        private static final long serialVersionUID = 1L;

        IoError(String message) {
            super(message);
        }
    }

    private final BlockDevice device;
    private final Arena arena;
    private final int lbs;

    DeviceIo(BlockDevice device, Arena arena) {
        this.device = device;
        this.arena = arena;
        this.lbs = device.limits().logicalBlockSize();
    }

    long size() {
        return device.sizeBytes();
    }

    /** get_disk_ro, as the device's ro attribute shows it. */
    boolean readOnly() {
        return device.attributes().has("ro") && device.attributes().read("ro").equals("1");
    }

    /** Reads up to dst.byteSize() bytes at {@code pos}; returns how many (fewer at the end). */
    long read(long pos, MemorySegment dst) throws IoError {
        long len = Math.min(dst.byteSize(), Math.max(0, size() - pos));
        if (len == 0) return 0;
        long start = pos - pos % lbs;
        long end = roundUp(pos + len);
        if (start == pos && end == pos + len && dst.isNative()) {
            readAligned(start, dst.asSlice(0, len));
        } else {
            MemorySegment buf = arena.allocate(end - start, lbs);
            readAligned(start, buf);
            MemorySegment.copy(buf, pos - start, dst, 0, len);
        }
        return len;
    }

    /** Writes src at {@code pos}; the caller has checked it fits. */
    void write(long pos, MemorySegment src) throws IoError {
        long len = src.byteSize();
        if (len == 0) return;
        long start = pos - pos % lbs;
        long end = roundUp(pos + len);
        if (start == pos && end == pos + len && src.isNative()) {
            writeAligned(start, src);
            return;
        }
        MemorySegment buf = arena.allocate(end - start, lbs);
        boolean headPartial = start != pos;
        boolean tailPartial = end != pos + len;
        if (headPartial) readAligned(start, buf.asSlice(0, lbs));
        if (tailPartial && !(headPartial && end - lbs == start)) readAligned(end - lbs, buf.asSlice(end - lbs - start, lbs));
        MemorySegment.copy(src, 0, buf, pos - start, len);
        writeAligned(start, buf);
    }

    /** An empty FLUSH: everything written so far is durable when it returns. */
    void flush() throws IoError {
        check(submit(Bio.flush()));
    }

    private void readAligned(long pos, MemorySegment buf) throws IoError {
        for (long off = 0; off < buf.byteSize(); off += MAX_BIO) {
            long n = Math.min(MAX_BIO, buf.byteSize() - off);
            check(submit(Bio.read((pos + off) >> Units.SECTOR_SHIFT, buf.asSlice(off, n))));
        }
    }

    private void writeAligned(long pos, MemorySegment buf) throws IoError {
        for (long off = 0; off < buf.byteSize(); off += MAX_BIO) {
            long n = Math.min(MAX_BIO, buf.byteSize() - off);
            check(submit(Bio.write((pos + off) >> Units.SECTOR_SHIFT, buf.asSlice(off, n))));
        }
    }

    private BlkStatus submit(Bio bio) {
        device.submit(bio);
        try {
            return bio.await();
        } catch (CompletionException e) {
            return BlkStatus.ioerr(String.valueOf(e.getCause()));
        }
    }

    private static void check(BlkStatus status) throws IoError {
        if (!status.isOk()) throw new IoError(status.message());
    }

    private long roundUp(long pos) {
        long r = pos % lbs;
        return r == 0 ? pos : pos + lbs - r;
    }
}
