package org.dmstack.shell;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/**
 * {@code dd}: copies between devices ({@code /dev/NAME}, {@code /dev/mapper/NAME}), files,
 * {@code /dev/zero}, {@code /dev/urandom} and {@code /dev/null}, with GNU dd's operands and its
 * closing lines (printed to the error stream, as dd does):
 *
 * <pre>
 * dd if=/dev/zero of=/dev/ram0 bs=1M count=4
 * 4+0 records in
 * 4+0 records out
 * 4194304 bytes (4.2 MB, 4.0 MiB) copied, 0.00912 s, 460 MB/s
 * </pre>
 */
public final class Dd {
    public static final String USAGE = """
            Usage: dd if=FILE of=FILE [OPERAND]...
              bs=BYTES        read and write up to BYTES bytes at a time (default: 512)
              count=N         copy only N input blocks
              skip=N          skip N bs-sized blocks at the start of input
              seek=N          skip N bs-sized blocks at the start of output
              status=LEVEL    none, noxfer or progress (show periodic transfer statistics)
              conv=CONVS      fsync or fdatasync (flush the output before finishing), notrunc
              oflag=FLAGS     direct, dsync, sync (accepted: device I/O is not cached)
              iflag=FLAGS     direct (accepted)
            FILE is /dev/NAME, /dev/mapper/NAME, /dev/zero, /dev/urandom, /dev/null or a file.
            N and BYTES may have a suffix: c=1, w=2, b=512, kB=1000, K=1024, MB=1000*1000,
            M=1024*1024, and so on for G and T.
            """;
    private static final long PROGRESS_NANOS = 1_000_000_000L;

    private final BlockDeviceRegistry registry;
    private final Path cwd;
    private final LongSupplier clock;

    public Dd(BlockDeviceRegistry registry, Path cwd) {
        this(registry, cwd, System::nanoTime);
    }

    /** @param clock nanoseconds, for the elapsed time dd reports */
    public Dd(BlockDeviceRegistry registry, Path cwd, LongSupplier clock) {
        this.registry = registry;
        this.cwd = cwd;
        this.clock = clock;
    }

    /** A copy that stopped: dd's error line. */
    private static final class DdError extends Exception {
        private static final long serialVersionUID = 1L;

        DdError(String message) {
            super(message);
        }
    }

    private interface Source extends AutoCloseable {
        /** Reads up to dst.byteSize() bytes at pos; 0 at the end. */
        long read(long pos, MemorySegment dst) throws DdError;

        /** Bytes available, or -1 when endless. */
        long size();

        @Override
        default void close() {}
    }

    private interface Sink extends AutoCloseable {
        void write(long pos, MemorySegment src) throws DdError;

        /** How many bytes fit in all (Long.MAX_VALUE when it grows). */
        long limit();

        void sync() throws DdError;

        @Override
        default void close() {}
    }

    public void run(List<String> args, PrintStream out, PrintStream err) {
        String in = null, outName = null, status = "default";
        long bs = 512, count = -1, skip = 0, seek = 0;
        Set<String> conv = new HashSet<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) throw CommandException.usage("dd: unrecognized operand '" + arg + "'", USAGE);
            String key = arg.substring(0, eq), value = arg.substring(eq + 1);
            switch (key) {
                case "if" -> in = value;
                case "of" -> outName = value;
                case "bs", "ibs", "obs" -> {
                    bs = number(arg, value);
                    if (bs <= 0 || bs > Integer.MAX_VALUE) throw CommandException.usage("dd: invalid number: '" + value + "'", USAGE);
                }
                case "count" -> count = number(arg, value);
                case "skip", "iseek" -> skip = number(arg, value);
                case "seek", "oseek" -> seek = number(arg, value);
                case "status" -> {
                    if (!List.of("none", "noxfer", "progress").contains(value)) throw CommandException.usage("dd: invalid status level: '" + value + "'", USAGE);
                    status = value;
                }
                case "conv" -> {
                    for (String c : value.split(",")) {
                        if (!List.of("fsync", "fdatasync", "notrunc").contains(c)) throw CommandException.usage("dd: invalid conversion: '" + c + "'", USAGE);
                        conv.add(c);
                    }
                }
                case "oflag", "iflag" -> {
                    for (String f : value.split(",")) {
                        if (!List.of("direct", "dsync", "sync", "fullblock").contains(f)) throw CommandException.usage("dd: invalid input flag: '" + f + "'", USAGE);
                        if (key.equals("oflag") && !f.equals("direct")) conv.add("fsync");
                    }
                }
                default -> throw CommandException.usage("dd: unrecognized operand '" + arg + "'", USAGE);
            }
        }
        if (in == null) throw CommandException.usage("dd: missing if=FILE (standard input is not supported)", USAGE);
        if (outName == null) throw CommandException.usage("dd: missing of=FILE (standard output is not supported)", USAGE);

        long[] records = new long[4]; // full in, partial in, full out, partial out
        long bytes = 0;
        String error = null;
        long startNanos;
        boolean progressShown = false;
        try (Arena arena = Arena.ofShared();
                Source src = openSource(in, arena);
                Sink dst = openSink(outName, arena, conv.contains("notrunc") ? -1 : seek * bs)) {
            long inPos = skip * bs;
            long outPos = seek * bs;
            if (src.size() >= 0 && inPos > src.size()) {
                err.println("dd: '" + in + "': cannot skip to specified offset");
                inPos = src.size();
            }
            MemorySegment buf = arena.allocate(bs, 4096);
            startNanos = clock.getAsLong();
            long lastProgress = startNanos;
            try {
                while (count < 0 || records[0] + records[1] < count) {
                    long n;
                    try {
                        n = src.read(inPos, buf);
                    } catch (DdError e) {
                        throw new DdError("dd: error reading '" + in + "': " + e.getMessage());
                    }
                    if (n == 0) break;
                    records[n == bs ? 0 : 1]++;
                    inPos += n;
                    long room = dst.limit() - outPos;
                    long w = Math.min(n, Math.max(0, room));
                    if (w > 0) {
                        try {
                            dst.write(outPos, buf.asSlice(0, w));
                        } catch (DdError e) {
                            throw new DdError("dd: error writing '" + outName + "': " + e.getMessage());
                        }
                        outPos += w;
                        bytes += w;
                        records[w == bs ? 2 : 3]++;
                    }
                    if (w < n) throw new DdError("dd: error writing '" + outName + "': No space left on device");
                    long now = clock.getAsLong();
                    if (status.equals("progress") && now - lastProgress >= PROGRESS_NANOS) {
                        err.print(transferLine(bytes, now - startNanos, true) + "\r");
                        err.flush();
                        progressShown = true;
                        lastProgress = now;
                    }
                }
                if (conv.contains("fsync") || conv.contains("fdatasync")) {
                    try {
                        dst.sync();
                    } catch (DdError e) {
                        throw new DdError("dd: fsync failed for '" + outName + "': " + e.getMessage());
                    }
                }
            } catch (DdError e) {
                error = e.getMessage();
            }
            long elapsed = clock.getAsLong() - startNanos;
            if (!status.equals("none")) {
                if (error != null) err.println(error);
                if (progressShown) err.println();
                err.println(records[0] + "+" + records[1] + " records in");
                err.println(records[2] + "+" + records[3] + " records out");
                if (!status.equals("noxfer")) err.println(transferLine(bytes, elapsed, false));
            }
        } catch (DdError e) {
            throw new CommandException(e.getMessage(), e);
        }
        if (error != null) throw new CommandException(error);
    }

    /** GNU dd's "N bytes (X MB, Y MiB) copied, T s, R MB/s". */
    static String transferLine(long bytes, long nanos, boolean progress) {
        double seconds = nanos / 1e9;
        String time = progress ? String.format(Locale.ROOT, "%.0f s", seconds) : DdFormat.g(seconds) + " s";
        String rate = seconds > 0 ? DdFormat.si(bytes / seconds) + "/s" : "Infinity B/s";
        if (bytes < 1000) return bytes + (bytes == 1 ? " byte" : " bytes") + " copied, " + time + ", " + rate;
        return bytes + " bytes (" + DdFormat.si(bytes) + ", " + DdFormat.iec(bytes) + ") copied, " + time + ", " + rate;
    }

    /** dd's numbers: digits with an optional multiplier suffix. */
    static long number(String operand, String text) {
        int i = 0;
        while (i < text.length() && Character.isDigit(text.charAt(i))) i++;
        if (i == 0) throw CommandException.usage("dd: invalid number: '" + text + "'", USAGE);
        long value;
        try {
            value = Long.parseLong(text.substring(0, i));
        } catch (NumberFormatException e) {
            throw CommandException.usage("dd: invalid number: '" + text + "'", USAGE);
        }
        long mult = switch (text.substring(i)) {
            case "" , "c" -> 1;
            case "w" -> 2;
            case "b" -> 512;
            case "kB" -> 1000;
            case "K", "k", "KiB" -> 1L << 10;
            case "MB" -> 1000L * 1000;
            case "M", "MiB" -> 1L << 20;
            case "GB" -> 1000L * 1000 * 1000;
            case "G", "GiB" -> 1L << 30;
            case "TB" -> 1000L * 1000 * 1000 * 1000;
            case "T", "TiB" -> 1L << 40;
            default -> throw CommandException.usage("dd: invalid number: '" + text + "'", USAGE);
        };
        if (value > Long.MAX_VALUE / mult) throw CommandException.usage("dd: invalid number: '" + text + "': Value too large for defined data type", USAGE);
        return value * mult;
    }

    private Source openSource(String name, Arena arena) throws DdError {
        switch (name) {
            case "/dev/zero" -> {
                return new Source() {
                    public long read(long pos, MemorySegment dst) {
                        dst.fill((byte) 0);
                        return dst.byteSize();
                    }

                    public long size() {
                        return -1;
                    }
                };
            }
            case "/dev/urandom", "/dev/random" -> {
                SplittableRandom random = new SplittableRandom();
                return new Source() {
                    public long read(long pos, MemorySegment dst) {
                        for (long i = 0; i + 8 <= dst.byteSize(); i += 8) dst.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
                        for (long i = dst.byteSize() & ~7L; i < dst.byteSize(); i++) dst.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
                        return dst.byteSize();
                    }

                    public long size() {
                        return -1;
                    }
                };
            }
            default -> {}
        }
        BlockDevice device = device(name);
        if (device != null) {
            DeviceIo io = new DeviceIo(device, arena);
            return new Source() {
                public long read(long pos, MemorySegment dst) throws DdError {
                    try {
                        return io.read(pos, dst);
                    } catch (DeviceIo.IoError e) {
                        throw new DdError("Input/output error (" + e.getMessage() + ")");
                    }
                }

                public long size() {
                    return io.size();
                }
            };
        }
        Path path = cwd.resolve(name);
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new DdError("dd: failed to open '" + name + "': " + reason(e));
        }
        return new Source() {
            public long read(long pos, MemorySegment dst) throws DdError {
                ByteBuffer bb = dst.asByteBuffer();
                try {
                    while (bb.hasRemaining()) {
                        int n = ch.read(bb, pos + bb.position());
                        if (n < 0) break;
                    }
                } catch (IOException e) {
                    throw new DdError(reason(e));
                }
                return bb.position();
            }

            public long size() {
                try {
                    return ch.size();
                } catch (IOException e) {
                    return -1;
                }
            }

            public void close() {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing was written
                }
            }
        };
    }

    /** @param truncateTo for files: the size to cut the file to first, or -1 (notrunc) */
    private Sink openSink(String name, Arena arena, long truncateTo) throws DdError {
        if (name.equals("/dev/null")) {
            return new Sink() {
                public void write(long pos, MemorySegment src) {}

                public long limit() {
                    return Long.MAX_VALUE;
                }

                public void sync() {}
            };
        }
        if (name.equals("/dev/zero") || name.equals("/dev/urandom") || name.equals("/dev/random")) {
            throw new DdError("dd: failed to open '" + name + "': Permission denied");
        }
        BlockDevice device = device(name);
        if (device != null) {
            DeviceIo io = new DeviceIo(device, arena);
            return new Sink() {
                public void write(long pos, MemorySegment src) throws DdError {
                    try {
                        io.write(pos, src);
                    } catch (DeviceIo.IoError e) {
                        throw new DdError("Input/output error (" + e.getMessage() + ")");
                    }
                }

                public long limit() {
                    return io.size();
                }

                public void sync() throws DdError {
                    try {
                        io.flush();
                    } catch (DeviceIo.IoError e) {
                        throw new DdError("Input/output error (" + e.getMessage() + ")");
                    }
                }
            };
        }
        if (name.startsWith("/dev/")) throw new DdError("dd: failed to open '" + name + "': No such file or directory");
        Path path = cwd.resolve(name);
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
            if (truncateTo >= 0 && ch.size() > truncateTo) ch.truncate(truncateTo);
        } catch (IOException e) {
            throw new DdError("dd: failed to open '" + name + "': " + reason(e));
        }
        return new Sink() {
            public void write(long pos, MemorySegment src) throws DdError {
                ByteBuffer bb = src.asByteBuffer();
                try {
                    while (bb.hasRemaining()) ch.write(bb, pos + bb.position());
                } catch (IOException e) {
                    throw new DdError(reason(e));
                }
            }

            public long limit() {
                return Long.MAX_VALUE;
            }

            public void sync() throws DdError {
                try {
                    ch.force(true);
                } catch (IOException e) {
                    throw new DdError(reason(e));
                }
            }

            public void close() {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // force() already reported what matters
                }
            }
        };
    }

    private BlockDevice device(String name) {
        if (!name.startsWith("/dev/")) return null;
        return Devices.find(registry, name);
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof AccessDeniedException) return "Permission denied";
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
