package org.dmstack.units;

import java.util.Locale;

/** Linux's units: sectors of 512 bytes, pages of 4096 bytes, and sizes as people type them. */
public final class Units {
    public static final int SECTOR_SHIFT = 9;
    public static final int SECTOR_SIZE = 1 << SECTOR_SHIFT;
    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** brd.c's PAGE_SECTORS_SHIFT: sectors to pages. */
    public static final int PAGE_SECTORS_SHIFT = PAGE_SHIFT - SECTOR_SHIFT;
    public static final int PAGE_SECTORS = 1 << PAGE_SECTORS_SHIFT;
    /** The cache line: the granularity of poison and of machine-check-safe copies. */
    public static final int CACHE_LINE = 64;

    private Units() {}

    /**
     * Parses a size a person typed: a plain number of bytes, or one with a binary suffix
     * K, M, G, T (also KiB, MiB, ...). "4G" is 4 GiB.
     *
     * @throws IllegalArgumentException naming the text when it is not a size
     */
    public static long parseSize(String text) {
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B") && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))) s = s.substring(0, s.length() - 1);
        int shift = 0;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
        }
        if (shift != 0) s = s.substring(0, s.length() - 1);
        long value;
        try {
            value = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid size '" + text + "': expected a number with an optional K, M, G or T suffix");
        }
        if (value < 0) throw new IllegalArgumentException("Invalid size '" + text + "': negative");
        if (shift != 0 && value > (Long.MAX_VALUE >> shift)) throw new IllegalArgumentException("Invalid size '" + text + "': too large");
        return value << shift;
    }

    /** Formats a byte count the way lsblk does: 1K, 1.5G, 512B. */
    public static String humanSize(long bytes) {
        String[] units = {"B", "K", "M", "G", "T", "P", "E"};
        double v = bytes;
        int i = 0;
        while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
        if (i == 0) return bytes + "B";
        String num = (v == Math.rint(v)) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.1f", v);
        if (num.endsWith(".0")) num = num.substring(0, num.length() - 2);
        return num + units[i];
    }
}
