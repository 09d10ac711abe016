package org.dmstack.shell;

import java.io.PrintStream;
import java.util.List;
import org.dmstack.block.BdevHandle;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.GenDisk;
import org.dmstack.units.Units;

/**
 * {@code blockdev}: util-linux 2.38's block device ioctls from the command line, on dmstack's
 * devices, with its grammar, output and errors (disk-utils/blockdev.c): commands first, applied
 * in order to each device after them; {@code --report} on its own.
 *
 * <pre>
 * blockdev --getsize64 /dev/ram0
 * blockdev -v --setro --getro /dev/mapper/fast
 * blockdev --report
 * </pre>
 *
 * <p>Each value is what 6.1's block/ioctl.c answers, from the device's attributes: BLKRAGET is
 * read_ahead_kb in sectors, BLKSECTGET max_sectors capped at 65535, BLKBSZGET the block size
 * set_init_blocksize gives (the largest power of two up to a page that divides the size, from
 * the logical block size) unless --setbsz changed it for this command line (as for a device
 * nobody else holds open: the next open starts from it again). BLKROSET is the user's read-only
 * flag beside the driver's ({@link GenDisk#setPolicyReadOnly}). There is no page cache
 * (--flushbufs has nothing to write) and no partition scanning (--rereadpt: EINVAL, as for dm).
 */
public final class Blockdev {
    private record Command(String name, String ioctl, String help, String argument) {}

    private static final List<Command> COMMANDS = List.of(
            new Command("--setro", "BLKROSET", "set read-only", null),
            new Command("--setrw", "BLKROSET", "set read-write", null),
            new Command("--getro", "BLKROGET", "get read-only", null),
            new Command("--getdiscardzeroes", "BLKDISCARDZEROES", "get discard zeroes support status", null),
            new Command("--getss", "BLKSSZGET", "get logical block (sector) size", null),
            new Command("--getpbsz", "BLKPBSZGET", "get physical block (sector) size", null),
            new Command("--getiomin", "BLKIOMIN", "get minimum I/O size", null),
            new Command("--getioopt", "BLKIOOPT", "get optimal I/O size", null),
            new Command("--getalignoff", "BLKALIGNOFF", "get alignment offset in bytes", null),
            new Command("--getmaxsect", "BLKSECTGET", "get max sectors per request", null),
            new Command("--getbsz", "BLKBSZGET", "get blocksize", null),
            new Command("--setbsz", "BLKBSZSET", "set blocksize on file descriptor opening the block device", "<bytes>"),
            new Command("--getsize", "BLKGETSIZE", "get 32-bit sector count (deprecated, use --getsz)", null),
            new Command("--getsize64", "BLKGETSIZE64", "get size in bytes", null),
            new Command("--setra", "BLKRASET", "set readahead", "<sectors>"),
            new Command("--getra", "BLKRAGET", "get readahead", null),
            new Command("--setfra", "BLKFRASET", "set filesystem readahead", "<sectors>"),
            new Command("--getfra", "BLKFRAGET", "get filesystem readahead", null),
            new Command("--flushbufs", "BLKFLSBUF", "flush buffers", null),
            new Command("--rereadpt", "BLKRRPART", "reread partition table", null));

    private static final String TRY_HELP = "Try 'blockdev --help' for more information.";

    private final BlockDeviceRegistry registry;

    public Blockdev(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    /** Runs one blockdev command line (without the word "blockdev"): values to {@code out}, --report's warnings to {@code err}. */
    public void run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) throw new CommandException("blockdev: not enough arguments\n" + TRY_HELP);
        String first = args.getFirst();
        if (first.equals("-V") || first.equals("--version")) {
            out.print("blockdev from dmstack (util-linux 2.38.1's commands)\n");
            return;
        }
        if (first.equals("-h") || first.equals("--help")) {
            out.print(usage());
            return;
        }
        if (first.equals("--report")) {
            out.print("RO    RA   SSZ   BSZ        StartSec            Size   Device\n");
            if (args.size() > 1) {
                for (String path : args.subList(1, args.size())) {
                    BlockDevice device = open(path);
                    if (device == null) {
                        report(path, null, out, err);
                        continue;
                    }
                    try (BdevHandle opened = hold(path, device)) {
                        report(path, device, out, err);
                    }
                }
            } else {
                for (BlockDevice d : registry.devices()) report("/dev/" + d.name(), d, out, err);
            }
            return;
        }
        // Devices start after the last command (main's loop: a command's argument is skipped, "--" ends the commands).
        int d = 0;
        for (; d < args.size(); d++) {
            String a = args.get(d);
            Command c = find(a);
            if (c != null) {
                if (c.argument() != null) d++;
                continue;
            }
            if (a.equals("--getsz")) continue;
            if (a.equals("--")) {
                d++;
                break;
            }
            if (!a.startsWith("-")) break;
        }
        if (d >= args.size()) throw new CommandException("blockdev: no device specified\n" + TRY_HELP);
        for (String path : args.subList(d, args.size())) {
            BlockDevice device = open(path);
            if (device == null) throw new CommandException("blockdev: cannot open " + path + ": No such file or directory");
            try (BdevHandle opened = hold(path, device)) {
                commands(args.subList(0, d), device, out);
            }
        }
    }

    /** The device a path names (/dev/NAME, /dev/mapper/NAME), or null: blockdev opens paths, so a bare name is no device. */
    private BlockDevice open(String path) {
        return path.startsWith("/dev/") ? Devices.find(registry, path) : null;
    }

    /** open(2): blockdev holds each device open (one of its openers) for the time of its ioctls. */
    private BdevHandle hold(String path, BlockDevice device) {
        try {
            return registry.open(device, "blockdev");
        } catch (IllegalStateException gone) {
            throw new CommandException("blockdev: cannot open " + path + ": No such device or address");
        }
    }

    private void commands(List<String> commands, BlockDevice device, PrintStream out) {
        boolean verbose = false;
        long blockSize = initialBlockSize(device);
        for (int i = 0; i < commands.size(); i++) {
            String a = commands.get(i);
            if (a.equals("-v") || a.equals("-q")) {
                verbose = a.equals("-v");
                continue;
            }
            if (a.equals("--getsz")) {
                out.print(device.capacity() + "\n");
                continue;
            }
            Command c = find(a);
            if (c == null) throw new CommandException("blockdev: Unknown command: " + a + "\n" + TRY_HELP);
            long argument = 0;
            if (c.argument() != null) {
                if (i == commands.size() - 1) throw new CommandException("blockdev: " + c.name() + " requires an argument\n" + TRY_HELP);
                argument = parseArgument(commands.get(++i));
            }
            String value;
            try {
                value = switch (c.name()) {
                    case "--setro", "--setrw" -> {
                        if (!(device instanceof GenDisk disk)) throw new IoctlError("Inappropriate ioctl for device");
                        disk.setPolicyReadOnly(c.name().equals("--setro"));
                        yield null;
                    }
                    case "--getro" -> attribute(device, "ro");
                    // BLKDISCARDZEROES: always 0 since discard no longer promises zeroes (4.12).
                    case "--getdiscardzeroes" -> "0";
                    case "--getss" -> attribute(device, "queue/logical_block_size");
                    case "--getpbsz" -> attribute(device, "queue/physical_block_size");
                    case "--getiomin" -> attribute(device, "queue/minimum_io_size");
                    case "--getioopt" -> attribute(device, "queue/optimal_io_size");
                    case "--getalignoff" -> attribute(device, "alignment_offset");
                    case "--getmaxsect" -> Long.toString(Math.min(0xffff, Long.parseLong(attribute(device, "queue/max_sectors_kb")) * 2));
                    case "--getbsz" -> Long.toString(blockSize);
                    case "--setbsz" -> {
                        blockSize = checkedBlockSize(device, argument);
                        yield null;
                    }
                    case "--getsize" -> Long.toString(device.capacity());
                    case "--getsize64" -> Long.toString(device.sizeBytes());
                    case "--setra", "--setfra" -> {
                        setReadAhead(device, argument);
                        yield null;
                    }
                    case "--getra", "--getfra" -> Long.toString(readAhead(device));
                    // BLKFLSBUF writes back and drops the page cache, which dmstack does not have.
                    case "--flushbufs" -> null;
                    default -> throw new IoctlError("Invalid argument"); // --rereadpt: no partition scanning here
                };
            } catch (IoctlError e) {
                if (verbose) out.print(c.help() + " failed.\n");
                throw new CommandException("blockdev: ioctl error on " + c.ioctl() + ": " + e.getMessage());
            }
            if (value == null) {
                if (verbose) out.print(c.help() + " succeeded.\n");
            } else {
                out.print((verbose ? c.help() + ": " : "") + value + "\n");
            }
        }
    }

    /** One line of --report: ro, read-ahead, sector size, block size, start sector (0: whole disks), size in bytes. */
    private static void report(String path, BlockDevice device, PrintStream out, PrintStream err) {
        if (device == null) {
            err.print("blockdev: cannot open " + path + ": No such file or directory\n");
            return;
        }
        out.print(String.format("%s %5d %5s %5d %15d %15d   %s\n", attribute(device, "ro").equals("1") ? "ro" : "rw", readAhead(device),
                attribute(device, "queue/logical_block_size"), initialBlockSize(device), 0, device.sizeBytes(), path));
    }

    /** BLKRAGET: bdi->ra_pages in sectors. */
    private static long readAhead(BlockDevice device) {
        return Long.parseLong(attribute(device, "queue/read_ahead_kb")) * 2;
    }

    /** BLKRASET: (sectors x 512) / PAGE_SIZE pages. */
    private static void setReadAhead(BlockDevice device, long sectors) {
        long pages = sectors * Units.SECTOR_SIZE / Units.PAGE_SIZE;
        try {
            device.attributes().write("queue/read_ahead_kb", Long.toString(pages << (Units.PAGE_SHIFT - 10)));
        } catch (IllegalArgumentException e) {
            throw new IoctlError("Invalid argument");
        }
    }

    /** set_init_blocksize: from the logical block size, doubled while it divides the size, up to a page. */
    private static long initialBlockSize(BlockDevice device) {
        long size = device.sizeBytes();
        long bsize = Long.parseLong(attribute(device, "queue/logical_block_size"));
        while (bsize < Units.PAGE_SIZE && (size & bsize) == 0) bsize <<= 1;
        return bsize;
    }

    /** set_blocksize's checks: a power of two from 512 to a page, not below the logical block size. */
    private static long checkedBlockSize(BlockDevice device, long size) {
        if (size > Units.PAGE_SIZE || size < Units.SECTOR_SIZE || Long.bitCount(size) != 1
                || size < Long.parseLong(attribute(device, "queue/logical_block_size"))) {
            throw new IoctlError("Invalid argument");
        }
        return size;
    }

    /** strtos32_or_err, as blockdev reads a command's argument. */
    private static long parseArgument(String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new CommandException("blockdev: failed to parse command argument: '" + text + "'");
        }
    }

    private static String attribute(BlockDevice device, String name) {
        return device.attributes().read(name);
    }

    private static Command find(String name) {
        for (Command c : COMMANDS) if (c.name().equals(name)) return c;
        return null;
    }

    /** blockdev --help, as util-linux 2.38.1 prints it. */
    static String usage() {
        StringBuilder sb = new StringBuilder("\nUsage:\n blockdev [-v|-q] commands devices\n blockdev --report [devices]\n blockdev -h|-V\n\n"
                + "Call block device ioctls from the command line.\n\nOptions:\n -q             quiet mode\n -v             verbose mode\n"
                + "     --report   print report for specified (or all) devices\n\n -h, --help     display this help\n"
                + " -V, --version  display version\n\nAvailable commands:\n");
        sb.append(String.format(" %-25s %s\n", "--getsz", "get size in 512-byte sectors"));
        for (Command c : COMMANDS) {
            if (c.argument() != null) sb.append(String.format(" %s %-" + (24 - c.name().length()) + "s %s\n", c.name(), c.argument(), c.help()));
            else sb.append(String.format(" %-25s %s\n", c.name(), c.help()));
        }
        return sb.append("\nFor more details see blockdev(8).\n").toString();
    }

    /** An ioctl's failure, by its errno's words. */
    private static final class IoctlError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        IoctlError(String message) {
            super(message, null, false, false);
        }
    }
}
