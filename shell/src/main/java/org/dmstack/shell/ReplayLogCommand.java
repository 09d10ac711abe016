package org.dmstack.shell;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.logwrites.ByteDevice;
import org.dmstack.dm.logwrites.ReplayLog;

/**
 * {@code replay-log}: xfstests' tool for logs that dm-log-writes wrote, with its options, output
 * and errors. {@code --log} and {@code --replay} name devices as the other commands do
 * ({@code ram1}, {@code /dev/mapper/log}, {@code 1:1}) or files; {@code --fsck} runs a shell
 * command ({@code /bin/sh -c}) after each checked step, which passes when it exits with 0.
 *
 * <pre>
 * replay-log --log /dev/ram1 --find --end-mark after-sync
 * 4@12
 * replay-log --log /dev/ram1 --replay /dev/ram2 --check flush --fsck 'my-checker'
 * </pre>
 */
public final class ReplayLogCommand {
    /**
     * usage() of xfstests' replay-log.c, word for word (its "--number-entries" and "mush" included);
     * {@code -h} and {@code --help} print it too, as every dmstack command's help does.
     */
    public static final String USAGE = """
            Usage: replay-log --log <logfile> [options]
            	--replay <device> - replay onto a specific device
            	--limit <number> - number of entries to replay
            	--next-flush - replay to/find the next flush
            	--next-fua - replay to/find the next fua
            	--start-entry <entry> - start at the given entry #
            	--start-mark <mark> - mark to start from
            	--end-mark <mark> - replay to/find the given mark
            	--find - put replay-log in find mode, will search based on the other options
            	--number-entries - print the number of entries in the log
            	--no-discard - don't process discard entries
            	--fsck - the fsck command to run, must specify --check
            	--check [<number>|flush|fua] when to check the file system, mush specify --fsck
            	--start-sector <sector> - replay ops on region from <sector> onto <device>
            	--end-sector <sector> - replay ops on region to <sector> onto <device>
            	-v or --verbose - print replayed ops
            	-vv - print also skipped ops
            """;

    /** long_options of replay-log.c in its order: the name, and whether it takes an argument. */
    private record LongOption(String name, boolean hasArg) {}

    private static final List<LongOption> LONG_OPTIONS = List.of(new LongOption("next-flush", false), new LongOption("next-fua", false),
            new LongOption("start-entry", true), new LongOption("end-mark", true), new LongOption("log", true), new LongOption("replay", true),
            new LongOption("limit", true), new LongOption("verbose", false), new LongOption("find", false), new LongOption("num-entries", false),
            new LongOption("no-discard", false), new LongOption("fsck", true), new LongOption("check", true), new LongOption("start-mark", true),
            new LongOption("start-sector", true), new LongOption("end-sector", true));

    private final BlockDeviceRegistry registry;
    private final Path cwd;

    public ReplayLogCommand(BlockDeviceRegistry registry, Path cwd) {
        this.registry = registry;
        this.cwd = cwd;
    }

    /** One parsed option: its long name and its argument (null for flags). */
    private record Option(String name, String value) {}

    /**
     * getopt_long(argc, argv, "v", long_options) as glibc does it: words that are not options are
     * skipped (the tool never reads them), "--" ends the options, a long option may be any prefix
     * of one name, or of several that all take an argument or all take none (the first of them in
     * the table is meant: verbose is the only one with a val of its own), {@code --opt value} and
     * {@code --opt=value}, and {@code -v} repeated. Errors are glibc's lines, then the usage.
     */
    private static List<Option> getopt(List<String> args) {
        List<Option> options = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--")) break;
            if (arg.equals("-h") || arg.equals("--help")) {
                options.add(new Option("help", null));
                continue;
            }
            if (!arg.startsWith("-") || arg.equals("-")) continue;
            if (!arg.startsWith("--")) {
                for (int n = 1; n < arg.length(); n++) {
                    if (arg.charAt(n) != 'v') throw CommandException.usage("replay-log: invalid option -- '" + arg.charAt(n) + "'", USAGE);
                    options.add(new Option("verbose", null));
                }
                continue;
            }
            int eq = arg.indexOf('=');
            String given = arg.substring(2, eq < 0 ? arg.length() : eq);
            LongOption found = null;
            List<LongOption> ambiguous = new ArrayList<>();
            for (LongOption o : LONG_OPTIONS) {
                if (o.name().equals(given)) {
                    found = o;
                    ambiguous.clear();
                    break;
                }
                if (!o.name().startsWith(given)) continue;
                if (found == null) {
                    found = o;
                } else if (found.hasArg() != o.hasArg() || found.name().equals("verbose") || o.name().equals("verbose")) {
                    if (ambiguous.isEmpty()) ambiguous.add(found);
                    ambiguous.add(o);
                }
            }
            if (found == null) throw CommandException.usage("replay-log: unrecognized option '" + arg + "'", USAGE);
            if (!ambiguous.isEmpty()) {
                StringBuilder why = new StringBuilder("replay-log: option '" + arg + "' is ambiguous; possibilities:");
                for (LongOption o : LONG_OPTIONS) if (ambiguous.contains(o)) why.append(" '--").append(o.name()).append('\'');
                throw CommandException.usage(why.toString(), USAGE);
            }
            if (found.hasArg()) {
                String value;
                if (eq >= 0) value = arg.substring(eq + 1);
                else if (i + 1 < args.size()) value = args.get(++i);
                else throw CommandException.usage("replay-log: option '--" + found.name() + "' requires an argument", USAGE);
                options.add(new Option(found.name(), value));
            } else {
                if (eq >= 0) throw CommandException.usage("replay-log: option '--" + found.name() + "' doesn't allow an argument", USAGE);
                options.add(new Option(found.name(), null));
            }
        }
        return options;
    }

    /** strtoull(text, &end, 0) with nothing left over: decimal, 0x hexadecimal or 0 octal. */
    private static long number(String text, String error) {
        String t = text.strip();
        int radix = 10;
        if (t.startsWith("0x") || t.startsWith("0X")) {
            radix = 16;
            t = t.substring(2);
        } else if (t.length() > 1 && t.startsWith("0")) {
            radix = 8;
            t = t.substring(1);
        }
        if (t.isEmpty()) return 0;
        try {
            return Long.parseUnsignedLong(t, radix);
        } catch (NumberFormatException e) {
            throw new CommandException(error);
        }
    }

    public void run(List<String> args, PrintStream out) {
        String logName = null, replayName = null, fsckCommand = null, check = null;
        int verbose = 0;
        List<Option> options = getopt(args);
        if (options.stream().anyMatch(o -> o.name().equals("help"))) {
            out.print(USAGE);
            return;
        }
        // The numbers are read as the options are, before the log is opened (replay-log.c's main).
        long startSector = 0, endSector = -1, checkNumber = 0;
        for (Option o : options) {
            switch (o.name()) {
                case "log" -> logName = o.value();
                case "replay" -> replayName = o.value();
                case "fsck" -> fsckCommand = o.value();
                case "check" -> {
                    check = o.value();
                    if (!check.equals("flush") && !check.equals("fua")) {
                        checkNumber = number(check, "Invalid entry number");
                        if (checkNumber == 0) throw new CommandException("Invalid entry number");
                    }
                }
                case "verbose" -> verbose++;
                case "start-entry", "limit" -> number(o.value(), "Invalid entry number");
                case "start-sector" -> startSector = number(o.value(), "Invalid sector number");
                case "end-sector" -> endSector = number(o.value(), "Invalid sector number");
                default -> {}
            }
        }
        if (logName == null) throw new CommandException(USAGE.stripTrailing());
        if ((fsckCommand == null) != (check == null)) throw new CommandException(USAGE.stripTrailing());

        try (Opened log = open(logName, false, "Couldn't open log "); Opened replay = replayName == null ? null : open(replayName, true, "Couldn't open replay file ")) {
            ReplayLog tool = new ReplayLog(log.device()).verbose(verbose);
            if (replay != null) tool.replay(replay.device());
            for (Option o : options) {
                switch (o.name()) {
                    case "next-flush" -> tool.nextFlush();
                    case "next-fua" -> tool.nextFua();
                    case "start-entry" -> tool.startEntry(number(o.value(), "Invalid entry number"));
                    case "start-mark" -> tool.startMark(o.value());
                    case "end-mark" -> tool.endMark(o.value());
                    case "limit" -> tool.limit(number(o.value(), "Invalid entry number"));
                    case "find" -> tool.find();
                    case "num-entries" -> tool.numEntries();
                    case "no-discard" -> tool.noDiscard();
                    default -> {}
                }
            }
            tool.sectors(startSector, endSector);
            if (check != null) {
                String command = fsckCommand;
                ReplayLog.Fsck fsck = () -> shell(command, out);
                switch (check) {
                    case "flush" -> tool.check(ReplayLog.CheckMode.FLUSH, 0, fsck);
                    case "fua" -> tool.check(ReplayLog.CheckMode.FUA, 0, fsck);
                    default -> tool.check(ReplayLog.CheckMode.NUMBER, checkNumber, fsck);
                }
            }
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = tool.run(out, new PrintStream(err, true, StandardCharsets.UTF_8));
            String errors = err.toString(StandardCharsets.UTF_8).stripTrailing();
            if (status != 0) throw new CommandException(errors);
        }
    }

    /** A log or replay target, open until the command ends. */
    private record Opened(ByteDevice device, FileChannel file) implements AutoCloseable {
        @Override
        public void close() {
            try {
                if (file != null) file.close();
            } catch (IOException e) {
                // Closing a file we only read, or already forced, loses nothing.
            }
        }
    }

    /** A device by the names the shell knows, else a file (which must exist, as open(2) without O_CREAT wants). */
    private Opened open(String name, boolean write, String error) {
        BlockDevice device = Devices.find(registry, name);
        if (device != null) return new Opened(ByteDevice.of(device), null);
        try {
            FileChannel file = write
                    ? FileChannel.open(cwd.resolve(name), StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(cwd.resolve(name), StandardOpenOption.READ);
            return new Opened(ByteDevice.of(file), file);
        } catch (IOException e) {
            throw new CommandException(error + name + ": No such device or file");
        }
    }

    /** system(CMD): runs it with /bin/sh in the working folder, its output to ours; passes when it exits with 0. */
    private boolean shell(String command, PrintStream out) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/bin/sh", "-c", command).directory(cwd.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        try (InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        return p.waitFor() == 0;
    }
}
