package org.dmstack.dm.logwrites;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import org.dmstack.dm.logwrites.LogFormat.Entry;

/**
 * An open write log, read front to back and replayed entry by entry onto a device (xfstests'
 * src/log-writes/log-writes.c: {@code struct log}, log_open, log_seek_entry, log_seek_next_entry,
 * log_replay_next_entry, log_discard). Messages a user should see (verbose output) go to
 * {@code out}; a failure throws a {@link LogException} whose message is the tool's error line.
 */
public final class WriteLog {
    /** What the xfstests tool writes to stderr when it gives up; the message is that line. */
    public static final class LogException extends Exception {
        private static final long serialVersionUID = 1L;

        public LogException(String message) {
            super(message);
        }
    }

    private static final long MAX_DISCARD_CHUNK = 1L << 30;

    private final ByteDevice log;
    private final ByteDevice replay;
    private final PrintStream out;
    private final int verbose;
    private final int sectorsize;
    private final long nrEntries;
    private long maxZeroSize = 128L << 20;
    private boolean ignoreDiscard;
    private boolean discardNotSupported;
    private long startSector;
    private long endSector = -1;
    private long curEntry;
    private long curPos;

    private WriteLog(ByteDevice log, ByteDevice replay, PrintStream out, int verbose, LogFormat.Super sup) {
        this.log = log;
        this.replay = replay;
        this.out = out;
        this.verbose = verbose;
        this.sectorsize = sup.sectorSize();
        this.nrEntries = sup.nrEntries();
        this.curPos = sectorsize;
    }

    /**
     * log_open: reads and checks the super block of {@code log}; {@code replay} may be null when
     * the log is only read. {@code verbose} is the number of -v given.
     */
    public static WriteLog open(ByteDevice log, ByteDevice replay, PrintStream out, int verbose) throws LogException {
        MemorySegment buf = MemorySegment.ofArray(new byte[512]);
        try {
            log.read(0, buf);
        } catch (IOException e) {
            throw new LogException("Error reading super: " + e.getMessage());
        }
        LogFormat.Super sup = LogFormat.Super.decode(buf);
        if (sup.magic() != LogFormat.MAGIC) throw new LogException("Magic doesn't match");
        if (sup.version() != LogFormat.VERSION) throw new LogException("Version mismatch, wanted " + LogFormat.VERSION + ", have " + (int) sup.version());
        if (sup.sectorSize() < 512 || Integer.bitCount(sup.sectorSize()) != 1) throw new LogException("Error seeking to first entry: sectorsize " + Integer.toUnsignedString(sup.sectorSize()));
        return new WriteLog(log, replay, out, verbose, sup);
    }

    public int sectorsize() {
        return sectorsize;
    }

    /** nr_entries of the super block. */
    public long nrEntries() {
        return nrEntries;
    }

    /** The number of the next entry (cur_entry). */
    public long curEntry() {
        return curEntry;
    }

    /** The byte position in the log after the last entry read (cur_pos). */
    public long curPos() {
        return curPos;
    }

    /** --no-discard: discard entries are not replayed. */
    public void ignoreDiscard(boolean ignore) {
        this.ignoreDiscard = ignore;
    }

    /** --start-sector and --end-sector: replay only entries touching this range of log sectors. */
    public void sectorRange(long start, long end) {
        this.startSector = start;
        this.endSector = end;
    }

    /** Discards larger than this are skipped when the replay device cannot discard and zeros are written instead. */
    public void maxZeroSize(long bytes) {
        this.maxZeroSize = bytes;
    }

    /** log_entry_valid: not all zero, and zero padded after the header unless a mark. */
    private static boolean valid(Entry entry) {
        if (entry.flags() == 0 && entry.nrSectors() == 0) return false;
        return entry.flags() == LogFormat.MARK || entry.padded();
    }

    /** Reads the entry at cur_pos, checks it and steps past its sector. */
    private Entry readEntry() throws LogException {
        MemorySegment buf = MemorySegment.ofArray(new byte[sectorsize]);
        try {
            log.read(curPos, buf);
        } catch (IOException e) {
            throw new LogException("Error reading entry: " + e.getMessage());
        }
        Entry entry = Entry.decode(buf);
        if (!valid(entry)) throw new LogException("Malformed entry @" + Long.divideUnsigned(curPos, sectorsize));
        curEntry++;
        curPos += sectorsize;
        return entry;
    }

    /** log_should_skip: outside --start-sector .. --end-sector. */
    private boolean shouldSkip(Entry entry) {
        if (entry.nrSectors() == 0) return false;
        return Long.compareUnsigned(entry.sector() + entry.nrSectors(), startSector) <= 0 || Long.compareUnsigned(entry.sector(), endSector) > 0;
    }

    private String describe(Entry entry, long size) {
        return (curEntry - 1) + "@" + Long.divideUnsigned(curPos, sectorsize) + ": sector " + Long.toUnsignedString(entry.sector()) + ", size "
                + Long.toUnsignedString(size) + ", flags 0x" + Long.toHexString(entry.flags()) + "(" + LogFormat.flagsToString(entry.flags()) + ")";
    }

    /**
     * log_replay_next_entry: replays the next entry onto the replay device and returns it, or
     * returns null at the end of the log.
     */
    public Entry replayNextEntry() throws LogException {
        if (Long.compareUnsigned(curEntry, nrEntries) >= 0) return null;
        Entry entry = readEntry();
        long size = entry.nrSectors() * sectorsize;
        boolean skip = shouldSkip(entry);
        if (verbose > 1 || verbose > 0 && !skip) out.println((skip ? "skipping " : "replaying ") + describe(entry, size));
        if (size == 0) return entry;
        if (entry.has(LogFormat.DISCARD)) {
            discard(entry);
            return entry;
        }
        if (skip) {
            curPos += size;
            return entry;
        }
        MemorySegment buf = MemorySegment.ofArray(new byte[Math.toIntExact(size)]);
        try {
            log.read(curPos, buf);
        } catch (IOException e) {
            throw new LogException("Error reading data: " + e.getMessage());
        }
        curPos += size;
        try {
            replay.write(entry.sector() * sectorsize, buf);
        } catch (IOException e) {
            throw new LogException("Error writing data: " + e.getMessage());
        }
        return entry;
    }

    /** log_seek_entry: goes to entry {@code n} (0 is the first). */
    public void seekEntry(long n) throws LogException {
        if (Long.compareUnsigned(n, nrEntries) >= 0) throw new LogException("Invalid entry number");
        curPos = sectorsize;
        curEntry = 0;
        for (long i = 0; i < n; i++) {
            long at = curPos;
            Entry entry = readEntry();
            if (verbose > 1) {
                out.println("seek entry " + i + "@" + Long.divideUnsigned(at, sectorsize) + ": " + Long.toUnsignedString(entry.sector()) + ", size "
                        + Long.toUnsignedString(entry.nrSectors()) + ", flags 0x" + Long.toHexString(entry.flags()));
            }
            if (!entry.has(LogFormat.DISCARD)) curPos += entry.nrSectors() * sectorsize;
        }
    }

    /** log_seek_next_entry: steps over the next entry without replaying it; null at the end of the log. */
    public Entry seekNextEntry() throws LogException {
        if (Long.compareUnsigned(curEntry, nrEntries) >= 0) return null;
        Entry entry = readEntry();
        if (verbose > 1) {
            out.println("seek entry " + (curEntry - 1) + "@" + Long.divideUnsigned(curPos, sectorsize) + ": " + Long.toUnsignedString(entry.sector())
                    + ", size " + Long.toUnsignedString(entry.nrSectors()) + ", flags 0x" + Long.toHexString(entry.flags()) + "("
                    + LogFormat.flagsToString(entry.flags()) + ")");
        }
        long size = entry.nrSectors() * sectorsize;
        if (size != 0 && !entry.has(LogFormat.DISCARD)) curPos += size;
        return entry;
    }

    /** fsync of the replay device. */
    public void syncReplay() throws IOException {
        if (replay != null) replay.sync();
    }

    /** log_discard: discards on the replay device, or writes zeros once it has said it cannot discard. */
    private void discard(Entry entry) throws LogException {
        if (ignoreDiscard) return;
        long start = entry.sector() * sectorsize;
        long size = entry.nrSectors() * sectorsize;
        while (size != 0) {
            long len = Math.min(size, MAX_DISCARD_CHUNK);
            // Asked first, so the first discard a device refuses already falls back to zeros.
            if (!discardNotSupported && !replay.discard(start, len)) {
                if (verbose > 0) out.println("replay device doesn't support discard, switching to writing zeros");
                discardNotSupported = true;
            }
            if (discardNotSupported) zeroRange(start, len);
            size -= len;
            start += len;
        }
    }

    private void zeroRange(long start, long len) throws LogException {
        if (maxZeroSize < len) {
            if (verbose > 0) out.println("discard len " + len + " larger than max " + maxZeroSize);
            return;
        }
        long chunk = Math.min(len, 1L << 20);
        MemorySegment zeros = MemorySegment.ofArray(new byte[(int) chunk]);
        try {
            for (long off = 0; off < len; off += chunk) replay.write(start + off, zeros.asSlice(0, Math.min(chunk, len - off)));
        } catch (IOException e) {
            throw new LogException("Error zeroing file: " + e.getMessage());
        }
    }
}
