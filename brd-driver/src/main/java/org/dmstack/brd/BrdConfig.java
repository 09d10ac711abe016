package org.dmstack.brd;

import java.util.Map;
import org.dmstack.units.Units;

/**
 * The brd driver's configuration, Linux's module parameters: {@code rd_nr} RAM disks of
 * {@code rd_size} KiB each.
 *
 * @param rdNr how many devices: ram0 ... ram{rdNr-1}
 * @param rdSizeKiB the size of each, in KiB
 */
public record BrdConfig(int rdNr, long rdSizeKiB) {
    /** Linux's CONFIG_BLK_DEV_RAM_COUNT. */
    public static final int DEFAULT_RD_NR = 16;
    /** Linux's CONFIG_BLK_DEV_RAM_SIZE, in KiB. */
    public static final long DEFAULT_RD_SIZE_KIB = 4096;
    /** Minors of major 1 (Linux's MINORBITS). */
    public static final int MAX_RD_NR = (1 << 20) - 1;
    /** 1 PiB in KiB: far beyond any machine, and sector counts stay far from overflowing. */
    public static final long MAX_RD_SIZE_KIB = 1L << 40;

    public BrdConfig {
        if (rdNr < 0 || rdNr > MAX_RD_NR) {
            throw new IllegalArgumentException("brd: rd_nr must be between 0 and " + MAX_RD_NR + ", not " + rdNr);
        }
        if (rdSizeKiB <= 0 || rdSizeKiB > MAX_RD_SIZE_KIB) {
            throw new IllegalArgumentException("brd: rd_size must be a positive size in KiB of at most " + MAX_RD_SIZE_KIB
                    + " (1 PiB), not " + rdSizeKiB);
        }
    }

    /** The defaults of Linux's module: 16 devices of 4 MiB. */
    public static BrdConfig defaults() {
        return new BrdConfig(DEFAULT_RD_NR, DEFAULT_RD_SIZE_KIB);
    }

    /**
     * Reads {@code rd_nr} and {@code rd_size} from configuration properties (numbers or text, as
     * Configuration Admin and FileInstall deliver them); a missing one takes Linux's default.
     * {@code rd_size} is a number of KiB, or a size with a K/M/G/T suffix ("1T").
     *
     * @throws IllegalArgumentException naming the property and the value when one is invalid
     */
    public static BrdConfig from(Map<String, ?> properties) {
        Object nr = properties.get("rd_nr");
        Object size = properties.get("rd_size");
        int rdNr = DEFAULT_RD_NR;
        long rdSize = DEFAULT_RD_SIZE_KIB;
        if (nr != null) {
            try {
                rdNr = nr instanceof Number n ? Math.toIntExact(n.longValue()) : Integer.parseInt(nr.toString().trim());
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException("brd: rd_nr must be a whole number of devices, not '" + nr + "'");
            }
        }
        if (size != null) rdSize = parseKiB(size);
        return new BrdConfig(rdNr, rdSize);
    }

    private static long parseKiB(Object value) {
        if (value instanceof Number n) return n.longValue();
        String text = value.toString().trim();
        if (!text.isEmpty() && Character.isDigit(text.charAt(text.length() - 1))) {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("brd: rd_size must be a number of KiB or a size like 1G, not '" + text + "'");
            }
        }
        long bytes;
        try {
            bytes = Units.parseSize(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("brd: rd_size must be a number of KiB or a size like 1G, not '" + text + "'");
        }
        if (bytes % 1024 != 0) throw new IllegalArgumentException("brd: rd_size '" + text + "' is not a whole number of KiB");
        return bytes / 1024;
    }

    /** The size of each device in bytes. */
    public long sizeBytes() {
        return rdSizeKiB * 1024;
    }

    /** The configuration as properties, the way it would be written back. */
    public Map<String, Object> toProperties() {
        return Map.of("rd_nr", rdNr, "rd_size", rdSizeKiB);
    }

    @Override
    public String toString() {
        return "rd_nr=" + rdNr + " rd_size=" + rdSizeKiB;
    }
}
