package org.dmstack.block;

/** A Linux device number, printed and parsed as {@code major:minor}. */
public record DevT(int major, int minor) implements Comparable<DevT> {
    /** RAM disks (brd): ramN is 1:N. */
    public static final int RAMDISK_MAJOR = 1;
    /** Dynamically numbered block devices (pmem). */
    public static final int BLOCK_EXT_MAJOR = 259;
    /** device-mapper: dm-N is 254:N. */
    public static final int DM_MAJOR = 254;

    public DevT {
        if (major < 0 || minor < 0) throw new IllegalArgumentException("Invalid device number " + major + ":" + minor);
    }

    /** Parses {@code major:minor}; returns null when the text is not of that form. */
    public static DevT parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) return null;
        try {
            int major = Integer.parseInt(text.substring(0, colon));
            int minor = Integer.parseInt(text.substring(colon + 1));
            if (major < 0 || minor < 0) return null;
            return new DevT(major, minor);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public int compareTo(DevT o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
    }

    @Override
    public String toString() {
        return major + ":" + minor;
    }
}
