package org.dmstack.dm.logwrites;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A log-writes log read and written byte by byte from the structures in Linux's
 * dm-log-writes.c, independently of {@link LogFormat}: what the tests decode the target's log
 * with, and how they build logs "written by Linux" for replay.
 */
final class RawLog {
    /** One decoded entry: its fields, a mark's name, and the data that follows it. */
    record RawEntry(long sector, long nrSectors, long flags, long dataLen, String mark, byte[] data) {
        @Override
        public String toString() {
            return "sector " + sector + " nr " + nrSectors + " flags " + flags + (mark.isEmpty() ? "" : " mark " + mark) + " data " + data.length;
        }
    }

    record Decoded(long magic, long version, long nrEntries, int sectorsize, List<RawEntry> entries) {}

    private RawLog() {}

    /** Reads the super block and its nr_entries entries, walking the log as log_seek_next_entry does. */
    static Decoded decode(byte[] log) {
        ByteBuffer b = ByteBuffer.wrap(log).order(ByteOrder.LITTLE_ENDIAN);
        long magic = b.getLong(0), version = b.getLong(8), nr = b.getLong(16);
        int ss = b.getInt(24);
        List<RawEntry> entries = new ArrayList<>();
        int pos = ss;
        for (long i = 0; i < nr; i++) {
            long sector = b.getLong(pos), nrSectors = b.getLong(pos + 8), flags = b.getLong(pos + 16), dataLen = b.getLong(pos + 24);
            String mark = (flags & 8) != 0 ? new String(log, pos + 32, (int) dataLen, StandardCharsets.UTF_8) : "";
            pos += ss;
            byte[] data = new byte[0];
            if ((flags & 4) == 0) {
                data = Arrays.copyOfRange(log, pos, pos + (int) (nrSectors * ss));
                pos += (int) (nrSectors * ss);
            }
            entries.add(new RawEntry(sector, nrSectors, flags, dataLen, mark, data));
        }
        return new Decoded(magic, version, nr, ss, entries);
    }

    /** Builds a log as the kernel lays it out: super in sector 0, then entry sectors each followed by their data. */
    static final class Builder {
        private final int ss;
        private final ByteBuffer b;
        private int pos;
        private long entries;

        Builder(int sectorsize, int totalBytes) {
            this.ss = sectorsize;
            this.b = ByteBuffer.allocate(totalBytes).order(ByteOrder.LITTLE_ENDIAN);
            this.pos = sectorsize;
        }

        /** An entry (struct log_write_entry) and, unless a discard, nr_sectors sectors of data. */
        Builder entry(long sector, long flags, byte[] data, long nrSectors) {
            b.putLong(pos, sector).putLong(pos + 8, nrSectors).putLong(pos + 16, flags).putLong(pos + 24, 0);
            pos += ss;
            if (data != null) {
                b.put(pos, data);
                pos += data.length;
            }
            entries++;
            return this;
        }

        Builder write(long sector, byte[] data, long flags) {
            return entry(sector, flags, data, data.length / ss);
        }

        Builder flush() {
            return entry(0, 1, null, 0);
        }

        Builder discard(long sector, long nrSectors) {
            return entry(sector, 4, null, nrSectors);
        }

        Builder mark(String name) {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            b.putLong(pos, 0).putLong(pos + 8, 0).putLong(pos + 16, 8).putLong(pos + 24, n.length);
            b.put(pos + 32, n);
            pos += ss;
            entries++;
            return this;
        }

        /** The log with a super block counting every entry so far. */
        byte[] build() {
            return build(entries);
        }

        byte[] build(long nrEntries) {
            b.putLong(0, 0x6a736677736872L).putLong(8, 1).putLong(16, nrEntries).putInt(24, ss);
            return b.array().clone();
        }
    }
}
