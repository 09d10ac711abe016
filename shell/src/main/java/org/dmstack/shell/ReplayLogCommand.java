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
            	--num-entries - print the number of entries in the log
            	--no-discard - don't process discard entries
            	--fsck - the fsck command to run, must specify --check
            	--check [<number>|flush|fua] when to check the file system, must specify --fsck
            	--start-sector <sector> - replay ops on region from <sector> onto <device>
            	--end-sector <sector> - replay ops on region to <sector> onto <device>
            	-v or --verbose - print replayed ops
            	-vv - print also skipped ops
            	-h or --help - print this and exit
            <logfile> and <device> are devices (ram1, /dev/mapper/NAME, 1:1) or files.
            """;

    private static final List<String> WITH_ARGUMENT = List.of("start-entry", "end-mark", "log", "replay", "limit", "fsck", "check", "start-mark",
            "start-sector", "end-sector");
    private static final List<String> WITHOUT_ARGUMENT = List.of("next-flush", "next-fua", "verbose", "find", "num-entries", "no-discard", "help");

    private final BlockDeviceRegistry registry;
    private final Path cwd;

    public ReplayLogCommand(BlockDeviceRegistry registry, Path cwd) {
        this.registry = registry;
        this.cwd = cwd;
    }

    /** One parsed option: its long name and its argument (null for flags). */
    private record Option(String name, String value) {}

    /** getopt_long with the tool's options: unambiguous prefixes, {@code --opt value} and {@code --opt=value}, {@code -v} repeated. */
    private static List<Option> getopt(List<String> args) {
        List<Option> options = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("-h")) {
                options.add(new Option("help", null));
                continue;
            }
            if (arg.matches("-v+")) {
                for (int n = 1; n < arg.length(); n++) options.add(new Option("verbose", null));
                continue;
            }
            if (!arg.startsWith("--") || arg.length() == 2) throw CommandException.usage("replay-log: unexpected argument '" + arg + "'", USAGE);
            int eq = arg.indexOf('=');
            String given = arg.substring(2, eq < 0 ? arg.length() : eq);
            List<String> matches = new ArrayList<>();
            for (String o : WITH_ARGUMENT) if (o.equals(given)) matches = new ArrayList<>(List.of(o));
            for (String o : WITHOUT_ARGUMENT) if (o.equals(given)) matches = new ArrayList<>(List.of(o));
            if (matches.isEmpty()) {
                for (String o : WITH_ARGUMENT) if (o.startsWith(given)) matches.add(o);
                for (String o : WITHOUT_ARGUMENT) if (o.startsWith(given)) matches.add(o);
            }
            if (matches.isEmpty()) throw CommandException.usage("replay-log: unrecognized option '" + arg + "'", USAGE);
            if (matches.size() > 1) throw CommandException.usage("replay-log: option '" + arg + "' is ambiguous", USAGE);
            String name = matches.getFirst();
            if (WITH_ARGUMENT.contains(name)) {
                String value;
                if (eq >= 0) value = arg.substring(eq + 1);
                else if (i + 1 < args.size()) value = args.get(++i);
                else throw CommandException.usage("replay-log: option '--" + name + "' requires an argument", USAGE);
                options.add(new Option(name, value));
            } else {
                if (eq >= 0) throw CommandException.usage("replay-log: option '--" + name + "' doesn't allow an argument", USAGE);
                options.add(new Option(name, null));
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
        for (Option o : options) {
            switch (o.name()) {
                case "log" -> logName = o.value();
                case "replay" -> replayName = o.value();
                case "fsck" -> fsckCommand = o.value();
                case "check" -> check = o.value();
                case "verbose" -> verbose++;
                default -> {}
            }
        }
        if (logName == null) throw new CommandException(USAGE.stripTrailing());
        if ((fsckCommand == null) != (check == null)) throw new CommandException(USAGE.stripTrailing());

        try (Opened log = open(logName, false, "Couldn't open log "); Opened replay = replayName == null ? null : open(replayName, true, "Couldn't open replay file ")) {
            ReplayLog tool = new ReplayLog(log.device()).verbose(verbose);
            if (replay != null) tool.replay(replay.device());
            long startSector = 0, endSector = -1;
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
                    case "start-sector" -> startSector = number(o.value(), "Invalid sector number");
                    case "end-sector" -> endSector = number(o.value(), "Invalid sector number");
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
                    default -> {
                        long n = number(check, "Invalid entry number");
                        if (n == 0) throw new CommandException("Invalid entry number");
                        tool.check(ReplayLog.CheckMode.NUMBER, n, fsck);
                    }
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
