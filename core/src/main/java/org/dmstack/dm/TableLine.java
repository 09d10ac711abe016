package org.dmstack.dm;

import java.util.ArrayList;
import java.util.List;
import org.dmstack.units.Units;

/**
 * One parsed line of a dmsetup table: {@code <start> <length> <target> <args...>}, in sectors.
 * Start and length are read as dmsetup reads them (unsigned 64-bit) and checked as the kernel
 * checks them, so once parsed they fit a signed long.
 *
 * @param lineNumber the line in the text it came from (1-based), for messages
 */
public record TableLine(int lineNumber, long start, long length, String type, List<String> args) {
    /** LLONG_MAX >> SECTOR_SHIFT: the most sectors a mapped device can have (dm_table_add_target). */
    static final long MAX_SECTORS = Long.MAX_VALUE >> Units.SECTOR_SHIFT;

    public TableLine {
        args = List.copyOf(args);
    }

    /**
     * Parses table text: one target per line; blank lines and {@code #} comments are allowed, as
     * in table files. Checks only the form of each line; the targets check their arguments.
     *
     * @throws DmException naming the line and what is wrong with it
     */
    public static List<TableLine> parse(String text) {
        // dmsetup reads every line before the kernel sees any (_parse_file), so a malformed line
        // is refused before a line the kernel would refuse, wherever they are.
        List<TableLine> lines = new ArrayList<>();
        String[] raw = text.split("\\R", -1);
        for (int i = 0; i < raw.length; i++) {
            String line = raw[i];
            int hash = line.indexOf('#');
            if (hash >= 0) line = line.substring(0, hash);
            line = line.strip();
            if (line.isEmpty()) continue;
            int n = i + 1;
            String[] words = line.split("\\s+");
            if (words.length < 3) {
                throw DmException.malformedLine(n, "line " + n + ": Invalid format: expected <start> <length> <target> [<args>...], got "
                        + words.length + (words.length == 1 ? " word" : " words"));
            }
            lines.add(new TableLine(n, sectors(n, "start", words[0]), sectors(n, "length", words[1]), words[2],
                    List.of(words).subList(3, words.length)));
        }
        for (TableLine l : lines) {
            // dm_table_add_target's checks, in its order.
            String where = "line " + l.lineNumber() + ": " + l.type() + ": ";
            if (l.length() == 0) throw DmException.tableRefused(where + "zero-length target", INVALID, null);
            long end = l.start() + l.length();
            if (Long.compareUnsigned(end, l.start()) < 0 || Long.compareUnsigned(end, MAX_SECTORS) > 0) {
                throw DmException.tableRefused(where + "too large device", INVALID, null);
            }
        }
        return lines;
    }

    /** EINVAL in strerror's words: what table_load fails with for most refusals. */
    static final String INVALID = "Invalid argument";

    /**
     * A start or length as dmsetup reads it (sscanf's %llu, which is strtoull): an optional sign and
     * decimal digits; "-N" is 2^64-N and anything past 2^64-1 is 2^64-1, held in a long as unsigned.
     */
    private static long sectors(int line, String what, String word) {
        int digits = word.startsWith("-") || word.startsWith("+") ? 1 : 0;
        if (word.length() == digits || !word.substring(digits).chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw DmException.malformedLine(line, "line " + line + ": Invalid format: " + what + " " + quote(word) + " is not a sector number");
        }
        long value;
        try {
            value = Long.parseUnsignedLong(word.substring(digits));
        } catch (NumberFormatException e) {
            return -1; // ULLONG_MAX, as strtoull gives on overflow whatever the sign
        }
        return word.charAt(0) == '-' ? -value : value;
    }

    /**
     * A word of a table, quoted for a message: at most 16 characters and only printable ones, so
     * that a file that is not a table (a binary, or a file of secrets) is not echoed back whole.
     */
    static String quote(String word) {
        StringBuilder sb = new StringBuilder("'");
        word.codePoints().limit(16).forEach(c -> sb.appendCodePoint(c >= 0x20 && c < 0x7f ? c : '?'));
        return sb.append(word.codePointCount(0, word.length()) > 16 ? "...'" : "'").toString();
    }

    /** The line as dmsetup table prints it, given the target's TABLE status. */
    static String format(long start, long length, String type, String params) {
        return start + " " + length + " " + type + " " + params;
    }
}
