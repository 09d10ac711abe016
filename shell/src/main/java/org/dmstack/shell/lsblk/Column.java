package org.dmstack.shell.lsblk;

import java.util.Locale;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.units.Units;

/**
 * The lsblk columns dmstack can fill, with util-linux's headers, width hints, alignment and JSON
 * types (misc-utils/lsblk.c, infos[]). Mount points are always empty: nothing mounts dmstack's
 * devices. Checked against util-linux 2.38.1's lsblk reading the same attributes (--sysroot).
 */
enum Column {
    NAME("NAME", 0.25, false, Type.STRING),
    KNAME("KNAME", 0.3, false, Type.STRING),
    PATH("PATH", 0.3, false, Type.STRING),
    MAJ_MIN("MAJ:MIN", 6, false, Type.STRING),
    RM("RM", 1, true, Type.BOOLEAN),
    SIZE("SIZE", 5, true, Type.SIZE),
    RO("RO", 1, true, Type.BOOLEAN),
    TYPE("TYPE", 4, false, Type.STRING),
    MOUNTPOINT("MOUNTPOINT", 0.10, false, Type.STRING),
    MOUNTPOINTS("MOUNTPOINTS", 0.10, false, Type.ARRAY),
    PKNAME("PKNAME", 0.3, false, Type.STRING),
    ALIGNMENT("ALIGNMENT", 6, true, Type.NUMBER),
    MIN_IO("MIN-IO", 6, true, Type.NUMBER),
    OPT_IO("OPT-IO", 6, true, Type.NUMBER),
    PHY_SEC("PHY-SEC", 7, true, Type.NUMBER),
    LOG_SEC("LOG-SEC", 7, true, Type.NUMBER),
    ROTA("ROTA", 1, true, Type.BOOLEAN),
    SCHED("SCHED", 0.1, false, Type.STRING),
    RQ_SIZE("RQ-SIZE", 5, true, Type.NUMBER),
    RA("RA", 3, true, Type.NUMBER),
    WSAME("WSAME", 6, true, Type.SIZE),
    DISC_ALN("DISC-ALN", 6, true, Type.NUMBER),
    DISC_GRAN("DISC-GRAN", 6, true, Type.SIZE),
    DISC_MAX("DISC-MAX", 6, true, Type.SIZE),
    DISC_ZERO("DISC-ZERO", 1, true, Type.BOOLEAN),
    DAX("DAX", 1, true, Type.BOOLEAN);

    /** How a column's value is written in JSON (libsmartcols' SCOLS_JSON_*). */
    enum Type {
        STRING, NUMBER, BOOLEAN, ARRAY,
        /** A string, or a number with --bytes. */
        SIZE
    }

    /** lsblk's default columns. */
    static final String DEFAULT = "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINTS";
    /** -t, --topology. */
    static final String TOPOLOGY = "NAME,ALIGNMENT,MIN-IO,OPT-IO,PHY-SEC,LOG-SEC,ROTA,SCHED,RQ-SIZE,RA,WSAME";
    /** -D, --discard. */
    static final String DISCARD = "NAME,DISC-ALN,DISC-GRAN,DISC-MAX,DISC-ZERO";

    final String header;
    /** Width hint: at least this wide when 1 or more; a share of the terminal otherwise (not applied off a terminal). */
    final double widthHint;
    final boolean right;
    final Type type;

    Column(String header, double widthHint, boolean right, Type type) {
        this.header = header;
        this.widthHint = widthHint;
        this.right = right;
        this.type = type;
    }

    /** The column called {@code name} (case-insensitive), or null. */
    static Column byName(String name) {
        for (Column c : values()) if (c.header.equalsIgnoreCase(name)) return c;
        return null;
    }

    /**
     * The cell's text as lsblk's device_get_data() computes it; empty where lsblk has no data
     * (an attribute the device does not have: null in JSON).
     *
     * @param parent the device above in the tree, or null
     * @param bytes --bytes: sizes in bytes
     * @param parsable JSON, raw or pairs output: MAJ:MIN unpadded
     * @param paths --paths: names as /dev paths
     */
    String value(BlockDevice d, BlockDevice parent, boolean bytes, boolean parsable, boolean paths) {
        return switch (this) {
            case NAME -> dmName(d) != null ? (paths ? "/dev/mapper/" : "") + dmName(d) : (paths ? "/dev/" : "") + d.name();
            case KNAME -> (paths ? "/dev/" : "") + d.name();
            case PATH -> dmName(d) != null ? "/dev/mapper/" + dmName(d) : "/dev/" + d.name();
            case MAJ_MIN -> parsable ? d.devt().toString()
                    : String.format(Locale.ROOT, "%3d:%-3d", d.devt().major(), d.devt().minor());
            case RM -> attribute(d, "removable", "0");
            case SIZE -> bytes ? Long.toString(d.sizeBytes()) : Units.humanSize(d.sizeBytes());
            case RO -> attribute(d, "ro", "0");
            case TYPE -> type(d);
            case MOUNTPOINT, MOUNTPOINTS -> "";
            case PKNAME -> parent == null ? "" : (paths ? "/dev/" : "") + parent.name();
            case ALIGNMENT -> attribute(d, "alignment_offset", "");
            case MIN_IO -> attribute(d, "queue/minimum_io_size", "");
            case OPT_IO -> attribute(d, "queue/optimal_io_size", "");
            case PHY_SEC -> attribute(d, "queue/physical_block_size", "");
            case LOG_SEC -> attribute(d, "queue/logical_block_size", "");
            case ROTA -> attribute(d, "queue/rotational", "");
            case SCHED -> scheduler(attribute(d, "queue/scheduler", ""));
            case RQ_SIZE -> attribute(d, "queue/nr_requests", "");
            case RA -> attribute(d, "queue/read_ahead_kb", "");
            case WSAME -> {
                String v = bytesAttribute(d, "queue/write_same_max_bytes", bytes);
                yield v.isEmpty() ? "0" : v;
            }
            // The alignment and zeroing of discards mean nothing on a device that cannot discard.
            case DISC_ALN -> discardGranularity(d) > 0 ? attribute(d, "discard_alignment", "0") : "0";
            case DISC_GRAN -> bytes ? attribute(d, "queue/discard_granularity", "") : Units.humanSize(discardGranularity(d));
            case DISC_MAX -> bytesAttribute(d, "queue/discard_max_bytes", bytes);
            case DISC_ZERO -> discardGranularity(d) > 0 ? attribute(d, "queue/discard_zeroes_data", "0") : "0";
            case DAX -> attribute(d, "queue/dax", "");
        };
    }

    /** The scheduler in use: the bracketed word of queue/scheduler ("none" alone names none). */
    private static String scheduler(String text) {
        int open = text.indexOf('['), close = text.indexOf(']', open + 1);
        return open < 0 || close < 0 ? "" : text.substring(open + 1, close);
    }

    private static long discardGranularity(BlockDevice d) {
        String v = attribute(d, "queue/discard_granularity", "0");
        return v.matches("\\d+") ? Long.parseLong(v) : 0;
    }

    /** lsblk's device_read_bytes(): the attribute as it is with --bytes, else a human size. */
    private static String bytesAttribute(BlockDevice d, String path, boolean bytes) {
        String v = attribute(d, path, "");
        if (bytes || !v.matches("\\d+")) return bytes ? v : "";
        return Units.humanSize(Long.parseLong(v));
    }

    private static String dmName(BlockDevice d) {
        return d.attributes().has("dm/name") ? d.attributes().read("dm/name") : null;
    }

    private static String attribute(BlockDevice d, String path, String missing) {
        return d.attributes().has(path) ? d.attributes().read(path) : missing;
    }

    /**
     * lsblk's get_type(): a mapped device is named by its uuid's prefix (the subsystem that owns
     * it: "LVM-..." is "lvm"), or "dm" without a uuid; every other dmstack device is a disk.
     */
    private static String type(BlockDevice d) {
        if (d.devt().major() != DevT.DM_MAJOR) return "disk";
        String uuid = attribute(d, "dm/uuid", "");
        if (uuid.isEmpty()) return "dm";
        String prefix = uuid.contains("-") ? uuid.substring(0, uuid.indexOf('-')) : uuid;
        // kpartx names partitions "partN-...": the number goes.
        if (prefix.regionMatches(true, 0, "part", 0, 4)) prefix = prefix.substring(0, 4);
        return prefix.toLowerCase(Locale.ROOT);
    }
}
