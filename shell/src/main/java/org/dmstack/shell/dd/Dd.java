package org.dmstack.shell.dd;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.shell.CommandException;

/**
 * {@code dd}: copies between devices ({@code /dev/NAME}, {@code /dev/mapper/NAME}), files,
 * {@code /dev/zero}, {@code /dev/urandom} and {@code /dev/null}, with GNU dd's operands
 * ({@link DdOperands}) and its closing lines, printed to the error stream as dd does:
 *
 * <pre>
 * dd if=/dev/zero of=/dev/ram0 bs=1M count=4
 * 4+0 records in
 * 4+0 records out
 * 4194304 bytes (4.2 MB, 4.0 MiB) copied, 0.00912 s, 460 MB/s
 * </pre>
 */
public final class Dd {
    public static final String USAGE = DdOperands.USAGE;
    private static final long PROGRESS_NANOS = 1_000_000_000L;

    private final Endpoints endpoints;
    private final LongSupplier clock;

    public Dd(BlockDeviceRegistry registry, Path cwd) {
        this(registry, cwd, System::nanoTime);
    }

    /** @param clock nanoseconds, for the elapsed time dd reports */
    public Dd(BlockDeviceRegistry registry, Path cwd, LongSupplier clock) {
        this.endpoints = new Endpoints(registry, cwd);
        this.clock = clock;
    }

    /** Full and partial records read and written, and bytes written: what dd reports. */
    private static final class Counts {
        long fullIn, partialIn, fullOut, partialOut, bytes;
    }

    /**
     * Runs dd. The closing lines go to {@code err}; when the copy fails they go, after dd's error
     * line, into the CommandException's message instead, so that they are printed once, in
     * GNU dd's order, by whoever reports the failure.
     */
    public void run(List<String> args, PrintStream out, PrintStream err) {
        if (args.equals(List.of("--help"))) {
            out.print(USAGE);
            return;
        }
        DdOperands op = DdOperands.parse(args);
        Counts counts = new Counts();
        String error = null;
        String report;
        try (Arena arena = Arena.ofShared();
                Source src = endpoints.source(op.in(), arena);
                Sink dst = endpoints.sink(op.out(), arena, op.notrunc() ? -1 : op.outStart())) {
            long start = clock.getAsLong();
            try {
                copy(op, src, dst, arena, counts, start, err);
            } catch (DdError e) {
                error = e.getMessage();
            }
            report = report(op, counts, clock.getAsLong() - start);
        } catch (DdError e) {
            throw new CommandException(e.getMessage(), e);
        }
        if (error != null) throw new CommandException((error + "\n" + report).stripTrailing());
        err.print(report);
    }

    /** dd's closing lines: records in and out, then bytes, time and rate, as status= asks. */
    private static String report(DdOperands op, Counts counts, long elapsedNanos) {
        if (op.status().equals("none")) return "";
        StringBuilder sb = new StringBuilder();
        sb.append(counts.fullIn).append('+').append(counts.partialIn).append(" records in\n");
        sb.append(counts.fullOut).append('+').append(counts.partialOut).append(" records out\n");
        if (!op.status().equals("noxfer")) sb.append(transferLine(counts.bytes, elapsedNanos, false)).append('\n');
        return sb.toString();
    }

    private void copy(DdOperands op, Source src, Sink dst, Arena arena, Counts counts, long start, PrintStream err) throws DdError {
        long inPos = op.inStart();
        if (src.size() >= 0 && inPos > src.size()) {
            err.println("dd: '" + op.in() + "': cannot skip to specified offset");
            inPos = src.size();
        }
        Output output = new Output(op, dst, counts, op.outStart());
        MemorySegment buf = arena.allocate(op.ibs(), 4096);
        // ibs and obs apart: the input is cut again into obs-sized output records.
        MemorySegment obuf = op.ibs() != op.obs() ? arena.allocate(op.obs(), 4096) : null;
        long pending = 0;
        long bytesLeft = op.countBytes() ? op.count() : -1;
        long lastProgress = start;
        boolean progressShown = false;
        try {
            while (op.countBytes() ? bytesLeft != 0 : op.count() < 0 || counts.fullIn + counts.partialIn < op.count()) {
                long want = bytesLeft >= 0 ? Math.min(op.ibs(), bytesLeft) : op.ibs();
                long n;
                try {
                    n = src.read(inPos, buf.asSlice(0, want));
                } catch (DdError e) {
                    throw new DdError("dd: error reading '" + op.in() + "': " + e.getMessage());
                }
                if (n == 0) break;
                if (n == op.ibs()) counts.fullIn++;
                else counts.partialIn++;
                inPos += n;
                if (bytesLeft >= 0) bytesLeft -= n;
                if (obuf == null) {
                    output.write(buf, n);
                } else {
                    for (long done = 0; done < n;) {
                        long part = Math.min(n - done, op.obs() - pending);
                        MemorySegment.copy(buf, done, obuf, pending, part);
                        done += part;
                        pending += part;
                        if (pending == op.obs()) {
                            output.write(obuf, pending);
                            pending = 0;
                        }
                    }
                }
                long now = clock.getAsLong();
                if (op.status().equals("progress") && now - lastProgress >= PROGRESS_NANOS) {
                    err.print(transferLine(counts.bytes, now - start, true) + "\r");
                    err.flush();
                    progressShown = true;
                    lastProgress = now;
                }
            }
            if (pending > 0) output.write(obuf, pending);
            if (op.sync()) {
                try {
                    dst.sync();
                } catch (DdError e) {
                    throw new DdError("dd: fsync failed for '" + op.out() + "': " + e.getMessage());
                }
            }
        } finally {
            // The progress line ends with \r; the closing lines start on a line of their own.
            if (progressShown) err.println();
        }
    }

    /** Where the output goes, one record (a write of up to obs bytes) at a time. */
    private static final class Output {
        private final DdOperands op;
        private final Sink dst;
        private final Counts counts;
        private long pos;

        Output(DdOperands op, Sink dst, Counts counts, long pos) {
            this.op = op;
            this.dst = dst;
            this.counts = counts;
            this.pos = pos;
        }

        void write(MemorySegment buf, long n) throws DdError {
            long w = Math.min(n, Math.max(0, dst.limit() - pos));
            if (w > 0) {
                try {
                    dst.write(pos, buf.asSlice(0, w));
                } catch (DdError e) {
                    throw new DdError("dd: error writing '" + op.out() + "': " + e.getMessage());
                }
                pos += w;
                counts.bytes += w;
                if (w == op.obs()) counts.fullOut++;
                else counts.partialOut++;
            }
            if (w < n) throw new DdError("dd: error writing '" + op.out() + "': No space left on device");
        }
    }

    /** GNU dd's "N bytes (X MB, Y MiB) copied, T s, R MB/s". */
    static String transferLine(long bytes, long nanos, boolean progress) {
        double seconds = nanos / 1e9;
        String time = progress ? String.format(Locale.ROOT, "%.0f s", seconds) : DdFormat.g(seconds) + " s";
        String rate = seconds > 0 ? DdFormat.si(bytes / seconds) + "/s" : "Infinity B/s";
        if (bytes < 1000) return bytes + (bytes == 1 ? " byte" : " bytes") + " copied, " + time + ", " + rate;
        // 1000 to 1023 bytes: "1000 B" says nothing the SI form does not (abbreviation_lacks_prefix).
        String sizes = bytes < 1024 ? DdFormat.si(bytes) : DdFormat.si(bytes) + ", " + DdFormat.iec(bytes);
        return bytes + " bytes (" + sizes + ") copied, " + time + ", " + rate;
    }
}
