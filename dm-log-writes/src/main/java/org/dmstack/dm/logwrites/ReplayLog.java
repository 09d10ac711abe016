package org.dmstack.dm.logwrites;

import java.io.IOException;
import java.io.PrintStream;
import org.dmstack.dm.logwrites.LogFormat.Entry;
import org.dmstack.dm.logwrites.WriteLog.LogException;

/**
 * replay-log (xfstests' src/log-writes/replay-log.c) as plain Java: replays a log-writes log onto
 * a device up to an entry, a mark or the next flush, one flush or FUA at a time with a check after
 * each, or finds where an entry or mark is. The options are the tool's; {@link #run} prints what
 * it prints and returns its exit status.
 *
 * <pre>{@code
 * // Replay every flush prefix and check the engine's invariant after each one.
 * int status = new ReplayLog(ByteDevice.of(logDevice))
 *         .replay(ByteDevice.of(scratch))
 *         .check(ReplayLog.CheckMode.FLUSH, 0, () -> engineRecovers(scratch))
 *         .run(System.out, System.err);   // 1 and "Fsck errored out on entry N" when a prefix fails
 * }</pre>
 */
public final class ReplayLog {
    /** --check: after every N entries, every FUA entry, or every FLUSH entry. */
    public enum CheckMode { NUMBER, FUA, FLUSH }

    /** --fsck: the check run after each step; true when what was replayed so far is consistent. */
    @FunctionalInterface
    public interface Fsck {
        boolean passes() throws Exception;
    }

    /** Longest mark compared: 4097 - sizeof(struct log_write_entry) as the tool reads it (the entry padded to 40 bytes). */
    private static final int MAX_MARK = 4097 - 40;

    private final ByteDevice log;
    private ByteDevice replay;
    private long limit;
    private long startEntry;
    private String startMark;
    private String endMark;
    private long stopFlags;
    private boolean find;
    private boolean numEntries;
    private boolean discard = true;
    private CheckMode checkMode;
    private long checkNumber;
    private Fsck fsck;
    private long startSector;
    private long endSector = -1;
    private int verbose;

    /** --log: the log to read. */
    public ReplayLog(ByteDevice log) {
        this.log = log;
    }

    /** --replay: the device to replay onto; without it, replay-log prints what the log holds. */
    public ReplayLog replay(ByteDevice device) {
        this.replay = device;
        return this;
    }

    /** --limit: stop after this many entries (0: no limit). */
    public ReplayLog limit(long entries) {
        this.limit = entries;
        return this;
    }

    /** --start-entry: begin at this entry. */
    public ReplayLog startEntry(long entry) {
        this.startEntry = entry;
        return this;
    }

    /** --start-mark: begin after this mark. */
    public ReplayLog startMark(String mark) {
        this.startMark = cut(mark);
        return this;
    }

    /** --end-mark: stop at (after) this mark. */
    public ReplayLog endMark(String mark) {
        this.endMark = cut(mark);
        stopFlags |= LogFormat.MARK;
        return this;
    }

    /** --next-flush: stop at the next flush. */
    public ReplayLog nextFlush() {
        stopFlags |= LogFormat.FLUSH;
        return this;
    }

    /** --next-fua: stop at the next FUA. */
    public ReplayLog nextFua() {
        stopFlags |= LogFormat.FUA;
        return this;
    }

    /** --find: print where the entry the other options name is ({@code entry@log sector}) instead of replaying. */
    public ReplayLog find() {
        this.find = true;
        return this;
    }

    /** --num-entries: print the number of entries. */
    public ReplayLog numEntries() {
        this.numEntries = true;
        return this;
    }

    /** --no-discard: do not replay discards. */
    public ReplayLog noDiscard() {
        this.discard = false;
        return this;
    }

    /** --check and --fsck: run {@code fsck} every {@code number} entries, or at every FUA or FLUSH entry. */
    public ReplayLog check(CheckMode mode, long number, Fsck fsck) {
        if (mode == CheckMode.NUMBER && number == 0) throw new IllegalArgumentException("Invalid entry number");
        this.checkMode = mode;
        this.checkNumber = number;
        this.fsck = fsck;
        return this;
    }

    /** --start-sector and --end-sector: replay only what touches these log sectors. */
    public ReplayLog sectors(long start, long end) {
        this.startSector = start;
        this.endSector = end;
        return this;
    }

    /** -v (1: replayed entries) or -vv (2: skipped and seeked ones too). */
    public ReplayLog verbose(int level) {
        this.verbose = level;
        return this;
    }

    private static String cut(String mark) {
        return mark.length() > MAX_MARK ? mark.substring(0, MAX_MARK) : mark;
    }

    /** should_stop: the entry has one of the flags, and is the mark asked for when MARK is one of them. */
    private static boolean shouldStop(Entry entry, long flags, String mark) {
        if ((entry.flags() & flags) == 0) return false;
        if ((flags & LogFormat.MARK) == 0) return true;
        return entry.has(LogFormat.MARK) && entry.markName().equals(mark);
    }

    /** Runs replay-log; returns its exit status (0 or 1), its output and errors printed as the tool prints them. */
    public int run(PrintStream out, PrintStream err) {
        try {
            return main(out, err);
        } catch (LogException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    private int main(PrintStream out, PrintStream err) throws LogException {
        WriteLog wlog = WriteLog.open(log, replay, out, verbose);
        if (!discard) wlog.ignoreDiscard(true);
        wlog.sectorRange(startSector, endSector);

        if (startMark != null) {
            Entry entry;
            while ((entry = wlog.seekNextEntry()) != null) {
                if (shouldStop(entry, LogFormat.MARK, startMark)) break;
            }
            if (entry == null) throw new LogException("Couldn't find starting mark");
        } else {
            wlog.seekEntry(startEntry);
        }

        long num = 0;
        if (find) {
            Entry entry;
            while ((entry = wlog.seekNextEntry()) != null) {
                num++;
                if (limit != 0 && num == limit || shouldStop(entry, stopFlags, endMark)) {
                    out.println((wlog.curEntry() - 1) + "@" + Long.divideUnsigned(wlog.curPos(), wlog.sectorsize()));
                    return 0;
                }
            }
            err.println("Couldn't find entry");
            return 1;
        }

        if (numEntries) {
            out.println(Long.toUnsignedString(wlog.nrEntries()));
            return 0;
        }

        if (replay == null) {
            out.println("Log version=" + LogFormat.VERSION + ", sectorsize=" + wlog.sectorsize() + ", entries=" + Long.toUnsignedString(wlog.nrEntries()));
            return 0;
        }

        int status = 0;
        try {
            Entry entry;
            while ((entry = wlog.replayNextEntry()) != null) {
                num++;
                if (fsck != null) {
                    boolean due = switch (checkMode) {
                        case NUMBER -> num % checkNumber == 0;
                        case FUA -> shouldStop(entry, LogFormat.FUA, null);
                        case FLUSH -> shouldStop(entry, LogFormat.FLUSH, null);
                    };
                    if (due && !runFsck(wlog)) {
                        err.println("Fsck errored out on entry " + (wlog.curEntry() - 1));
                        status = 1;
                        break;
                    }
                }
                if (limit != 0 && num == limit || shouldStop(entry, stopFlags, endMark)) break;
            }
        } catch (LogException e) {
            err.println(e.getMessage());
            status = 1;
        }
        try {
            wlog.syncReplay();
        } catch (IOException e) {
            // fsync's result is not checked by the tool either: the replay itself decided the status.
        }
        return status;
    }

    /** run_fsck: makes the replayed writes durable, then checks. */
    private boolean runFsck(WriteLog wlog) {
        try {
            wlog.syncReplay();
            return fsck.passes();
        } catch (Exception e) {
            return false;
        }
    }
}
