package org.dmstack.shell.lsblk;

import java.util.Locale;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.units.Units;

/**
 * The lsblk columns dmstack can fill, with util-linux's headers, width hints, alignment and JSON
 * types (misc-utils/lsblk.c, infos[]). Mount points are always empty: nothing mounts dmstack's
 * devices.
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
    LOG_SEC("LOG-SEC", 7, true, Type.NUMBER),
    PHY_SEC("PHY-SEC", 7, true, Type.NUMBER),
    MIN_IO("MIN-IO", 6, true, Type.NUMBER),
    OPT_IO("OPT-IO", 6, true, Type.NUMBER),
    DAX("DAX", 1, true, Type.BOOLEAN);

    /** How a column's value is written in JSON (libsmartcols' SCOLS_JSON_*). */
    enum Type {
        STRING, NUMBER, BOOLEAN, ARRAY,
        /** A string, or a number with --bytes. */
        SIZE
    }

    /** lsblk's default columns. */
    static final String DEFAULT = "NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINTS";

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
     * The cell's text as lsblk computes it.
     *
     * @param parent the device above in the tree, or null
     * @param bytes --bytes: sizes in bytes
     * @param parsable JSON (or raw) output: MAJ:MIN unpadded
     */
    String value(BlockDevice d, BlockDevice parent, boolean bytes, boolean parsable) {
        return switch (this) {
            case NAME -> dmName(d) != null ? dmName(d) : d.name();
            case KNAME -> d.name();
            case PATH -> dmName(d) != null ? "/dev/mapper/" + dmName(d) : "/dev/" + d.name();
            case MAJ_MIN -> parsable ? d.devt().toString()
                    : String.format(Locale.ROOT, "%3d:%-3d", d.devt().major(), d.devt().minor());
            case RM -> attribute(d, "removable", "0");
            case SIZE -> bytes ? Long.toString(d.sizeBytes()) : Units.humanSize(d.sizeBytes());
            case RO -> attribute(d, "ro", "0");
            case TYPE -> type(d);
            case MOUNTPOINT, MOUNTPOINTS -> "";
            case PKNAME -> parent == null ? "" : parent.name();
            case LOG_SEC -> attribute(d, "queue/logical_block_size", "");
            case PHY_SEC -> attribute(d, "queue/physical_block_size", "");
            case MIN_IO -> attribute(d, "queue/minimum_io_size", "");
            case OPT_IO -> attribute(d, "queue/optimal_io_size", "");
            case DAX -> attribute(d, "queue/dax", "0");
        };
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
