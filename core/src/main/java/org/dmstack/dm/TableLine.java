package org.dmstack.dm;

import java.util.ArrayList;
import java.util.List;

/**
 * One parsed line of a dmsetup table: {@code <start> <length> <target> <args...>}, in sectors.
 *
 * @param lineNumber the line in the text it came from (1-based), for messages
 */
public record TableLine(int lineNumber, long start, long length, String type, List<String> args) {
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
                throw new DmException("line " + n + ": Invalid format: expected <start> <length> <target> [<args>...], got '" + line + "'");
            }
            long start = sectors(n, "start", words[0]);
            long length = sectors(n, "length", words[1]);
            if (length == 0) throw new DmException("line " + n + ": " + words[2] + ": zero-length target");
            if (start + length < 0) {
                throw new DmException("line " + n + ": Invalid format: start " + start + " + length " + length + " overflows");
            }
            lines.add(new TableLine(n, start, length, words[2], List.of(words).subList(3, words.length)));
        }
        return lines;
    }

    private static long sectors(int line, String what, String word) {
        if (word.isEmpty() || !word.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new DmException("line " + line + ": Invalid format: " + what + " '" + word + "' is not a sector number");
        }
        try {
            return Long.parseLong(word);
        } catch (NumberFormatException e) {
            throw new DmException("line " + line + ": Invalid format: " + what + " '" + word + "' is too large");
        }
    }

    /** The line as dmsetup table prints it, given the target's TABLE status. */
    static String format(long start, long length, String type, String params) {
        return start + " " + length + " " + type + " " + params;
    }
}
