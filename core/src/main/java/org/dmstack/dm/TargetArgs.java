package org.dmstack.dm;

import java.util.List;
import java.util.OptionalLong;
import org.dmstack.block.BlockDevice;

/**
 * A target's arguments, read front to back (dm-table.c's {@code struct dm_arg_set} with
 * {@code dm_shift_arg}, {@code dm_read_arg} and {@code dm_read_arg_group}), and the kernel's ways
 * of reading a number from one.
 *
 * <p>Every reader takes the error its target sets in Linux ({@code ti->error}), so a refused line
 * reads as the kernel's log does. Numbers follow the kernel's scanners exactly, quirks included:
 * {@code sscanf("%u%c")} and {@code sscanf("%llu%c")} accept only digits (no sign, nothing after
 * them) and wrap on overflow as {@code simple_strtoull} does; {@code kstrtouint} accepts a leading
 * '+' and refuses what does not fit. Unsigned 64-bit values are held in a {@code long} with the
 * same bits: 18446744073709551615 is -1; print them with {@link Long#toUnsignedString(long)}.
 *
 * <pre>{@code
 * TargetArgs as = ctx.argSet();
 * String devname = as.shift();
 * long offset = as.sector("Invalid device sector");
 * BlockDevice dev = as.device(devname, "Device lookup failed");
 * long features = as.group(0, 3, "Invalid number of feature args");
 * }</pre>
 */
public final class TargetArgs {
    private final List<String> args;
    private final TargetContext.DeviceLookup lookup;
    private int next;

    TargetArgs(List<String> args, TargetContext.DeviceLookup lookup) {
        this.args = List.copyOf(args);
        this.lookup = lookup;
    }

    /** argc: how many arguments are left. */
    public int remaining() {
        return args.size() - next;
    }

    /** dm_shift_arg: the next argument, or null when there is none. */
    public String shift() {
        return next < args.size() ? args.get(next++) : null;
    }

    /** dm_read_arg: the next argument as {@code %u}, between min and max inclusive. */
    public long read(long min, long max, String error) throws TargetException {
        return validateNext(min, max, error, false);
    }

    /**
     * dm_read_arg_group: the count that opens a group (of feature arguments, say), between min and
     * max, and no more than the arguments that follow it.
     */
    public long group(long min, long max, String error) throws TargetException {
        return validateNext(min, max, error, true);
    }

    private long validateNext(long min, long max, String error, boolean grouped) throws TargetException {
        OptionalLong value = scanU32(shift());
        if (value.isEmpty() || value.getAsLong() < min || value.getAsLong() > max || (grouped && remaining() < value.getAsLong())) {
            throw new TargetException(error);
        }
        return value.getAsLong();
    }

    /** The next argument as a sector, {@code sscanf("%llu%c")}; {@code error} when it is missing or not one. */
    public long sector(String error) throws TargetException {
        return parseSector(shift(), error);
    }

    /**
     * dm_get_device: the device a table line names ({@code path} is usually an argument shifted
     * earlier, as Linux targets read the offset after it but look the device up last). A device
     * that cannot be found fails with {@code error}, the lookup's own reason after it.
     */
    public BlockDevice device(String path, String error) throws TargetException {
        if (path == null) throw new TargetException(error);
        try {
            return lookup.get(path);
        } catch (TargetException e) {
            throw new TargetException(error, e);
        }
    }

    /** {@code text} as a sector, {@code sscanf("%llu%c")}; {@code error} when it is missing or not one. */
    public static long parseSector(String text, String error) throws TargetException {
        return scanU64(text).orElseThrow(() -> new TargetException(error));
    }

    /** {@code sscanf(text, "%u%c") == 1}: digits only, wrapping at 2^32 as the kernel's scanner does. */
    public static OptionalLong scanU32(String text) {
        OptionalLong v = scanU64(text);
        return v.isPresent() ? OptionalLong.of(v.getAsLong() & 0xffff_ffffL) : v;
    }

    /** {@code sscanf(text, "%llu%c") == 1}: digits only, wrapping at 2^64 as simple_strtoull does. */
    public static OptionalLong scanU64(String text) {
        if (text == null || text.isEmpty()) return OptionalLong.empty();
        long value = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') return OptionalLong.empty();
            value = value * 10 + (c - '0');
        }
        return OptionalLong.of(value);
    }

    /** kstrtouint(text, 10): an optional '+', digits, and a value below 2^32; nothing else. */
    public static OptionalLong kstrtouint(String text) {
        if (text == null) return OptionalLong.empty();
        String digits = text.startsWith("+") ? text.substring(1) : text;
        if (digits.isEmpty()) return OptionalLong.empty();
        long value = 0;
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') return OptionalLong.empty();
            value = value * 10 + (c - '0');
            if (value > 0xffff_ffffL) return OptionalLong.empty();
        }
        return OptionalLong.of(value);
    }
}
