package org.dmstack.shell.dd;

import java.util.List;
import org.dmstack.shell.CommandException;

/**
 * dd's operands, parsed: {@code if=FILE of=FILE bs=BYTES ibs=BYTES obs=BYTES count=N skip=N seek=N
 * status=LEVEL conv=CONVS oflag=FLAGS iflag=FLAGS}, with GNU dd's names, number suffixes and
 * errors (coreutils 9.1).
 *
 * @param ibs bytes a read asks for; {@code obs} bytes a write gives (bs= sets both)
 * @param count input blocks to copy (bytes with iflag=count_bytes or a count ending in B), or -1 for all
 * @param skip input blocks to skip; {@code seek} output blocks (bytes with skip_bytes / seek_bytes or a B)
 * @param status "default", "none", "noxfer" or "progress"
 * @param sync flush the output at the end (conv=fsync|fdatasync, oflag=dsync|sync)
 * @param notrunc leave an output file's length alone (conv=notrunc)
 */
record DdOperands(String in, String out, long ibs, long obs, long count, long skip, long seek, String status, boolean sync,
        boolean notrunc, boolean countBytes, boolean skipBytes, boolean seekBytes) {
    static final String USAGE = """
            Usage: dd if=FILE of=FILE [OPERAND]...
            Copy a file, converting and formatting according to the operands.

              bs=BYTES        read and write up to BYTES bytes at a time (default: 512);
                              overrides ibs and obs
              conv=CONVS      convert the file as per the comma separated symbol list
              count=N         copy only N input blocks
              ibs=BYTES       read up to BYTES bytes at a time (default: 512)
              if=FILE         read from FILE (standard input is not supported)
              iflag=FLAGS     read as per the comma separated symbol list
              obs=BYTES       write BYTES bytes at a time (default: 512)
              of=FILE         write to FILE (standard output is not supported)
              oflag=FLAGS     write as per the comma separated symbol list
              seek=N          (or oseek=N) skip N obs-sized output blocks
              skip=N          (or iseek=N) skip N ibs-sized input blocks
              status=LEVEL    The LEVEL of information to print to stderr;
                              'none' suppresses everything but error messages,
                              'noxfer' suppresses the final transfer statistics,
                              'progress' shows periodic transfer statistics

            FILE is /dev/NAME, /dev/mapper/NAME, /dev/zero, /dev/urandom, /dev/null or a file.

            N and BYTES may be followed by the following multiplicative suffixes:
            c=1, w=2, b=512, kB=1000, K=1024, MB=1000*1000, M=1024*1024, xM=M,
            GB=1000*1000*1000, G=1024*1024*1024, and so on for T, P, E.
            Binary prefixes can be used, too: KiB=K, MiB=M, and so on.
            If N ends in 'B', it counts bytes not blocks.

            Each CONV symbol may be:

              notrunc   do not truncate the output file
              fdatasync  physically write output file data before finishing
              fsync     likewise, but also write metadata

            Each FLAG symbol may be:

              direct    use direct I/O for data (there is no page cache: always)
              dsync     use synchronized I/O for data (oflag: flush at the end)
              sync      likewise, but also for metadata
              fullblock  accumulate full blocks of input (iflag only)
              count_bytes, skip_bytes (iflag), seek_bytes (oflag): N counts bytes

            Not supported: cbs=; conv= ascii ebcdic ibm block unblock lcase ucase sparse swab
            sync excl nocreat noerror; flags append directory nonblock noatime nocache noctty
            nofollow; --version.
            """;
    private static final List<String> STATUS = List.of("none", "noxfer", "progress");
    private static final List<String> CONVS = List.of("fsync", "fdatasync", "notrunc");
    /** GNU dd's conversions dmstack does not make. */
    private static final List<String> OTHER_CONVS =
            List.of("ascii", "ebcdic", "ibm", "block", "unblock", "lcase", "ucase", "sparse", "swab", "sync", "excl", "nocreat", "noerror");
    private static final List<String> IFLAGS = List.of("direct", "dsync", "sync", "fullblock", "count_bytes", "skip_bytes");
    private static final List<String> OFLAGS = List.of("direct", "dsync", "sync", "seek_bytes");
    private static final List<String> OTHER_FLAGS =
            List.of("append", "binary", "cio", "directory", "noatime", "nocache", "noctty", "nofollow", "nolinks", "nonblock", "text");
    private static final String TRY = "Try 'dd --help' for more information.";

    static DdOperands parse(List<String> args) {
        String in = null, out = null, status = "default";
        long bs = -1, ibs = 512, obs = 512, count = -1, skip = 0, seek = 0;
        boolean sync = false, notrunc = false, countBytes = false, skipBytes = false, seekBytes = false;
        for (String arg : args) {
            if (arg.startsWith("--") && arg.length() > 2) throw tryHelp("dd: unrecognized option '" + arg + "'");
            if (arg.startsWith("-") && arg.length() > 1 && !arg.equals("--")) throw tryHelp("dd: invalid option -- '" + arg.charAt(1) + "'");
            int eq = arg.indexOf('=');
            if (eq <= 0) throw tryHelp("dd: unrecognized operand '" + arg + "'");
            String key = arg.substring(0, eq), value = arg.substring(eq + 1);
            // coreutils 9.1: a count, skip or seek that ends in B counts bytes.
            boolean inBytes = value.indexOf('B') >= 0;
            switch (key) {
                case "if" -> in = value;
                case "of" -> out = value;
                case "bs" -> bs = blockSize(value);
                case "ibs" -> ibs = blockSize(value);
                case "obs" -> obs = blockSize(value);
                case "count" -> {
                    count = number(value);
                    countBytes |= inBytes;
                }
                case "skip", "iseek" -> {
                    skip = number(value);
                    skipBytes |= inBytes;
                }
                case "seek", "oseek" -> {
                    seek = number(value);
                    seekBytes |= inBytes;
                }
                case "status" -> {
                    if (!STATUS.contains(value)) throw tryHelp("dd: invalid status level: '" + value + "'");
                    status = value;
                }
                case "conv" -> {
                    for (String c : value.split(",")) {
                        if (OTHER_CONVS.contains(c)) throw tryHelp("dd: conversion '" + c + "' is not supported");
                        if (!CONVS.contains(c)) throw tryHelp("dd: invalid conversion: '" + c + "'");
                        if (c.equals("notrunc")) notrunc = true;
                        else sync = true;
                    }
                }
                case "iflag" -> {
                    for (String f : value.split(",")) {
                        flag(f, IFLAGS, "input");
                        countBytes |= f.equals("count_bytes");
                        skipBytes |= f.equals("skip_bytes");
                    }
                }
                case "oflag" -> {
                    for (String f : value.split(",")) {
                        flag(f, OFLAGS, "output");
                        seekBytes |= f.equals("seek_bytes");
                        // There is no page cache: direct is what every copy does; dsync and sync flush at the end.
                        if (f.equals("dsync") || f.equals("sync")) sync = true;
                    }
                }
                default -> throw tryHelp("dd: unrecognized operand '" + arg + "'");
            }
        }
        if (in == null) throw tryHelp("dd: missing if=FILE (standard input is not supported)");
        if (out == null) throw tryHelp("dd: missing of=FILE (standard output is not supported)");
        if (bs > 0) ibs = obs = bs;
        return new DdOperands(in, out, ibs, obs, count, skip, seek, status, sync, notrunc, countBytes, skipBytes, seekBytes);
    }

    /** The byte where reading starts (skip=). */
    long inStart() {
        return skipBytes ? skip : skip * ibs;
    }

    /** The byte where writing starts (seek=). */
    long outStart() {
        return seekBytes ? seek : seek * obs;
    }

    private static void flag(String f, List<String> known, String which) {
        if (OTHER_FLAGS.contains(f)) throw tryHelp("dd: " + which + " flag '" + f + "' is not supported");
        if (!known.contains(f)) throw tryHelp("dd: invalid " + which + " flag: '" + f + "'");
    }

    private static CommandException tryHelp(String reason) {
        return new CommandException(reason + "\n" + TRY);
    }

    /** bs=, ibs=, obs=: a number from 1 up to what one buffer holds. */
    private static long blockSize(String value) {
        long n = number(value);
        if (n <= 0 || n > Integer.MAX_VALUE) throw invalid(value, "");
        return n;
    }

    private static CommandException invalid(String text, String reason) {
        return new CommandException("dd: invalid number: '" + text + "'" + reason);
    }

    /**
     * dd's numbers (parse_integer): digits with an optional multiplier suffix (a suffix alone is
     * 1 of it: "M" is 1048576), an optional B after them ("100B", counted in bytes by the caller),
     * or N{@code x}M, the product of two numbers.
     */
    static long number(String text) {
        int x = text.indexOf('x');
        if (x > 0) {
            // One x only (dd 9.1: "2x3x4" is invalid).
            if (text.indexOf('x', x + 1) >= 0) throw invalid(text, "");
            long a = number(text.substring(0, x)), b = number(text.substring(x + 1));
            if (a != 0 && b > Long.MAX_VALUE / a) throw invalid(text, ": Value too large for defined data type");
            return a * b;
        }
        int i = 0;
        while (i < text.length() && Character.isDigit(text.charAt(i))) i++;
        String suffix = text.substring(i);
        long mult = multiplier(suffix);
        // coreutils 9.1 takes a B after the number or its suffix, unless it follows another B.
        if (mult < 0 && suffix.endsWith("B") && !suffix.endsWith("BB") && (i > 0 || suffix.length() > 1)) {
            mult = multiplier(suffix.substring(0, suffix.length() - 1));
        }
        if (mult < 0 || i == 0 && suffix.isEmpty()) throw invalid(text, "");
        long value;
        try {
            value = i == 0 ? 1 : Long.parseLong(text.substring(0, i));
        } catch (NumberFormatException e) {
            throw invalid(text, ": Value too large for defined data type");
        }
        if (value > Long.MAX_VALUE / mult) throw invalid(text, ": Value too large for defined data type");
        return value * mult;
    }

    /** gnulib xstrtoumax's suffixes as dd allows them: c w b, and K M G T P E with B (powers of 1000) or iB or nothing (1024); -1 if none. */
    private static long multiplier(String suffix) {
        switch (suffix) {
            case "c": return 1;
            case "w": return 2;
            case "b": return 512;
            default: break;
        }
        if (suffix.isEmpty()) return 1;
        int power = "kMGTPE".indexOf(suffix.charAt(0)) + 1;
        if (suffix.charAt(0) == 'K') power = 1;
        if (power == 0) return -1;
        String rest = suffix.substring(1);
        int base = switch (rest) {
            case "" , "iB" -> 1024;
            case "B" -> 1000;
            default -> -1;
        };
        if (base < 0) return -1;
        long m = 1;
        for (int p = 0; p < power; p++) m *= base;
        return m;
    }
}
