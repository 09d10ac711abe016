package org.dmstack.dm.logwrites;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The log's on-disk format, as dm-log-writes.c writes it and xfstests' log-writes.c reads it. All
 * numbers are little-endian; a "sector" of the log is the logical block size of the logged device
 * ({@code sectorsize} in the super block).
 *
 * <pre>
 * sector 0:        log_write_super   { le64 magic, le64 version, le64 nr_entries, le32 sectorsize }
 * then per entry:  log_write_entry   { le64 sector, le64 nr_sectors, le64 flags, le64 data_len }
 *                  (one log sector, zero padded; a MARK's name follows the 32 bytes)
 *                  the data written: nr_sectors log sectors (none for FLUSH-only, DISCARD, MARK)
 * </pre>
 *
 * Entry sectors and nr_sectors count log sectors, not 512-byte sectors. The super block is
 * rewritten after every FUA and MARK entry, so {@code nr_entries} covers the log up to the last
 * of those (and, once the target is removed, its closing "dm-log-writes-end" mark).
 */
public final class LogFormat {
    private LogFormat() {}

    public static final long FLUSH = 1 << 0;
    public static final long FUA = 1 << 1;
    public static final long DISCARD = 1 << 2;
    public static final long MARK = 1 << 3;
    public static final long METADATA = 1 << 4;

    public static final long MAGIC = 0x6a736677736872L;
    public static final long VERSION = 1;
    /** The super block's sector (in 512-byte sectors, as bi_sector counts). */
    public static final long SUPER_SECTOR = 0;
    /** sizeof(struct log_write_super): 28 bytes. */
    public static final int SUPER_SIZE = 28;
    /** sizeof(struct log_write_entry): 32 bytes. */
    public static final int ENTRY_SIZE = 32;
    /** The mark dm-log-writes adds when the target is destroyed. */
    public static final String END_MARK = "dm-log-writes-end";

    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** struct log_write_super. */
    public record Super(long magic, long version, long nrEntries, int sectorSize) {
        public static Super decode(MemorySegment buf) {
            return new Super(buf.get(LE64, 0), buf.get(LE64, 8), buf.get(LE64, 16), buf.get(LE32, 24));
        }

        /** Fills one log sector with this super block, zero padded (log_super, write_metadata). */
        public void encode(MemorySegment sector) {
            sector.fill((byte) 0);
            sector.set(LE64, 0, magic);
            sector.set(LE64, 8, version);
            sector.set(LE64, 16, nrEntries);
            sector.set(LE32, 24, sectorSize);
        }
    }

    /**
     * struct log_write_entry, and what follows it in its sector: {@code data} holds a MARK's name
     * (data_len bytes) and is empty otherwise; {@code padded} tells whether the byte after the
     * header is zero, as a real entry's is unless it is a mark.
     */
    public record Entry(long sector, long nrSectors, long flags, long dataLen, byte[] data, boolean padded) {
        public static Entry decode(MemorySegment buf) {
            long flags = buf.get(LE64, 16);
            long dataLen = buf.get(LE64, 24);
            byte[] data = new byte[0];
            boolean padded = buf.byteSize() <= ENTRY_SIZE || buf.get(ValueLayout.JAVA_BYTE, ENTRY_SIZE) == 0;
            if ((flags & MARK) != 0 && buf.byteSize() > ENTRY_SIZE) {
                long n = Math.min(Math.max(dataLen, 0), buf.byteSize() - ENTRY_SIZE);
                data = buf.asSlice(ENTRY_SIZE, n).toArray(ValueLayout.JAVA_BYTE);
            }
            return new Entry(buf.get(LE64, 0), buf.get(LE64, 8), flags, dataLen, data, padded);
        }

        /** A mark entry: no sectors, the name after the header. */
        public static Entry mark(String name) {
            byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
            return new Entry(0, 0, MARK, bytes.length, bytes, false);
        }

        /** Fills one log sector with this entry and, for a mark, its name (write_metadata). */
        public void encode(MemorySegment sector) {
            sector.fill((byte) 0);
            sector.set(LE64, 0, this.sector);
            sector.set(LE64, 8, nrSectors);
            sector.set(LE64, 16, flags);
            sector.set(LE64, 24, dataLen);
            if ((flags & MARK) != 0) MemorySegment.copy(MemorySegment.ofArray(data), 0, sector, ENTRY_SIZE, data.length);
        }

        public boolean has(long flag) {
            return (flags & flag) != 0;
        }

        /** A mark's name (up to its first NUL, as C reads it); "" for other entries. */
        public String markName() {
            int n = 0;
            while (n < data.length && data[n] != 0) n++;
            return new String(data, 0, n, StandardCharsets.UTF_8);
        }
    }

    /** entry_flags_to_str of xfstests' log-writes.c: "FLUSH|FUA", "NONE", "MARK|UNKNOWN.0x10". */
    public static String flagsToString(long flags) {
        StringBuilder s = new StringBuilder();
        long[] bits = {FLUSH, FUA, DISCARD, MARK};
        String[] names = {"FLUSH", "FUA", "DISCARD", "MARK"};
        for (int i = 0; i < bits.length; i++) {
            if ((flags & bits[i]) != 0) {
                if (!s.isEmpty()) s.append('|');
                s.append(names[i]);
                flags &= ~bits[i];
            }
        }
        if (flags != 0) {
            if (!s.isEmpty()) s.append('|');
            s.append("UNKNOWN.0x").append(Long.toHexString(flags));
        }
        return s.isEmpty() ? "NONE" : s.toString();
    }
}
