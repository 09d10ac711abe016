package org.dmstack.shell.lsblk;

import java.util.ArrayList;
import java.util.List;

/**
 * lsblk's human-readable output as libsmartcols prints it to a pipe (calculate.c, print.c): each
 * column as wide as its widest cell and at least its header, or its width hint when that is
 * larger still; right-aligned columns padded on the left; one space between columns; the last
 * column not padded unless right-aligned; the tree drawn in the NAME column with "├─", "└─"
 * and "│ ". Also --raw and --pairs, which libsmartcols prints without alignment.
 */
final class TextTable {
    private final List<Column> columns;
    private final boolean headings;
    private final List<String[]> rows = new ArrayList<>();

    TextTable(List<Column> columns, boolean headings) {
        this.columns = columns;
        this.headings = headings;
    }

    /** @param cells one per column, the NAME cell with its tree art already in front */
    void add(String[] cells) {
        rows.add(cells);
    }

    String text() {
        if (rows.isEmpty()) return "";
        int n = columns.size();
        int[] width = new int[n];
        for (int i = 0; i < n; i++) {
            Column c = columns.get(i);
            int max = 0;
            for (String[] r : rows) max = Math.max(max, width(r[i]));
            int header = c.header.length();
            if (max < header) max = header;
            else if (c.widthHint >= 1 && max < c.widthHint && header < c.widthHint) max = (int) c.widthHint;
            width[i] = max;
        }
        StringBuilder sb = new StringBuilder();
        if (headings) line(sb, columns.stream().map(c -> c.header).toArray(String[]::new), width);
        for (String[] r : rows) line(sb, r, width);
        return sb.toString();
    }

    private void line(StringBuilder sb, String[] cells, int[] width) {
        for (int i = 0; i < cells.length; i++) {
            boolean last = i == cells.length - 1;
            String fill = " ".repeat(Math.max(0, width[i] - width(cells[i])));
            if (columns.get(i).right && !(last && cells[i].isEmpty())) sb.append(fill).append(cells[i]);
            else sb.append(cells[i]).append(last ? "" : fill);
            if (!last) sb.append(' ');
        }
        sb.append('\n');
    }

    /** --raw: cells apart by one space, blanks, backslashes and control characters as \\xNN (libsmartcols' fputs_nonblank). */
    String raw() {
        StringBuilder sb = new StringBuilder();
        if (headings) sb.append(String.join(" ", columns.stream().map(c -> escape(c.header, " \t\\")).toList())).append('\n');
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) sb.append(i == 0 ? "" : " ").append(escape(r[i], " \t\\"));
            sb.append('\n');
        }
        return sb.toString();
    }

    /** --pairs: NAME="value", quotes, backslashes, backquotes, dollars and control characters as \\xNN (fputs_quoted). */
    String pairs() {
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                sb.append(i == 0 ? "" : " ").append(columns.get(i).header).append("=\"").append(escape(r[i], "\"\\`$")).append('"');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String escape(String s, String special) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (special.indexOf(c) >= 0 || Character.isISOControl(c)) sb.append(String.format("\\x%02x", (int) c));
            else sb.append(c);
        }
        return sb.toString();
    }

    /** Terminal cells: the tree's box-drawing characters take one each. */
    private static int width(String s) {
        return s.codePointCount(0, s.length());
    }
}
