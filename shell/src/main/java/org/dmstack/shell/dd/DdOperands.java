package org.dmstack.shell.dd;

import java.util.List;
import org.dmstack.shell.CommandException;

/**
 * dd's operands, parsed: {@code if=FILE of=FILE bs=BYTES count=N skip=N seek=N status=LEVEL
 * conv=CONVS oflag=FLAGS iflag=FLAGS}, with GNU dd's names and number suffixes.
 *
 * @param count input blocks to copy, or -1 for all
 * @param skip input blocks to skip; {@code seek} output blocks
 * @param status "default", "none", "noxfer" or "progress"
 * @param sync flush the output at the end (conv=fsync|fdatasync, oflag=dsync|sync)
 * @param notrunc leave an output file's length alone (conv=notrunc)
 */
record DdOperands(String in, String out, long bs, long count, long skip, long seek, String status, boolean sync, boolean notrunc) {
    static final String USAGE = """
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
    private static final List<String> STATUS = List.of("none", "noxfer", "progress");
    private static final List<String> CONVS = List.of("fsync", "fdatasync", "notrunc");
    private static final List<String> FLAGS = List.of("direct", "dsync", "sync", "fullblock");

    static DdOperands parse(List<String> args) {
        String in = null, out = null, status = "default";
        long bs = 512, count = -1, skip = 0, seek = 0;
        boolean sync = false, notrunc = false;
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) throw CommandException.usage("dd: unrecognized operand '" + arg + "'", USAGE);
            String key = arg.substring(0, eq), value = arg.substring(eq + 1);
            switch (key) {
                case "if" -> in = value;
                case "of" -> out = value;
                case "bs", "ibs", "obs" -> {
                    bs = number(value);
                    if (bs <= 0 || bs > Integer.MAX_VALUE) throw CommandException.usage("dd: invalid number: '" + value + "'", USAGE);
                }
                case "count" -> count = number(value);
                case "skip", "iseek" -> skip = number(value);
                case "seek", "oseek" -> seek = number(value);
                case "status" -> {
                    if (!STATUS.contains(value)) throw CommandException.usage("dd: invalid status level: '" + value + "'", USAGE);
                    status = value;
                }
                case "conv" -> {
                    for (String c : value.split(",")) {
                        if (!CONVS.contains(c)) throw CommandException.usage("dd: invalid conversion: '" + c + "'", USAGE);
                        if (c.equals("notrunc")) notrunc = true;
                        else sync = true;
                    }
                }
                case "oflag", "iflag" -> {
                    for (String f : value.split(",")) {
                        if (!FLAGS.contains(f)) throw CommandException.usage("dd: invalid input flag: '" + f + "'", USAGE);
                        // There is no page cache: direct is what every copy does; dsync and sync flush at the end.
                        if (key.equals("oflag") && !f.equals("direct")) sync = true;
                    }
                }
                default -> throw CommandException.usage("dd: unrecognized operand '" + arg + "'", USAGE);
            }
        }
        if (in == null) throw CommandException.usage("dd: missing if=FILE (standard input is not supported)", USAGE);
        if (out == null) throw CommandException.usage("dd: missing of=FILE (standard output is not supported)", USAGE);
        return new DdOperands(in, out, bs, count, skip, seek, status, sync, notrunc);
    }

    /** dd's numbers: digits with an optional multiplier suffix. */
    static long number(String text) {
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
            case "", "c" -> 1;
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
        if (value > Long.MAX_VALUE / mult) {
            throw CommandException.usage("dd: invalid number: '" + text + "': Value too large for defined data type", USAGE);
        }
        return value * mult;
    }
}
