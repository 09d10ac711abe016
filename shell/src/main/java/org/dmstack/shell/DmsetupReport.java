package org.dmstack.shell;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.dmstack.block.DevT;
import org.dmstack.dm.DeviceInfo;

/**
 * {@code dmsetup info -c}: one row per device in the columns {@code -o} names, as LVM2's dmsetup
 * prints them through libdevmapper's report (dmsetup.c's _report_fields, libdm-report.c):
 * aligned by default, each field as wide as its widest value and at least its defined width,
 * headings left-aligned, strings left- and numbers right-aligned, every field padded, the last
 * too, fields joined by one space. {@code --noheadings} drops the headings and the alignment and
 * joins with ":"; {@code --separator S} joins with S, unaligned.
 */
final class DmsetupReport {
    /** dmsetup's default fields. */
    static final String DEFAULT_FIELDS = "name,major,minor,attr,open,segments,events,uuid";

    /** What a report needs beyond one device's info: its deps and kernel names, and who uses it. */
    interface Context {
        List<DevT> deps(DeviceInfo device);

        /** The kernel name of a block device ("dm-0", "ram0"), or "" when there is none. */
        String kernelName(DevT devt);

        /** A block device's read-ahead in sectors (BLKRAGET), 0 when there is none. */
        long readAhead(DevT devt);

        /** The name of the mapped device numbered {@code devt}, or "" when it is not one. */
        String mappedName(DevT devt);

        /** The mapped devices whose live tables use {@code device}, by name. */
        List<DeviceInfo> users(DeviceInfo device);
    }

    /** A field: its -o name, heading, defined width, alignment and value. */
    private record Field(String id, String heading, int width, boolean number, Function<Row, String> value) {}

    private record Row(DeviceInfo info, Context context) {}

    private static final Map<String, Field> FIELDS = new LinkedHashMap<>();

    static {
        str("name", "Name", 16, r -> r.info().name());
        str("uuid", "UUID", 32, r -> r.info().uuid() == null ? "" : r.info().uuid());
        num("read_ahead", "RAhead", 6, r -> Long.toString(r.context().readAhead(r.info().devt())));
        str("blkdevname", "BlkDevName", 16, r -> r.context().kernelName(r.info().devt()));
        str("attr", "Stat", 4, r -> attr(r.info()));
        str("tables_loaded", "Tables", 6, r -> tables(r.info()));
        str("suspended", "Suspended", 9, r -> r.info().suspended() ? "Suspended" : "Active");
        str("readonly", "Read-only", 9, r -> r.info().readOnly() ? "Read-only" : "Writeable");
        str("devno", "DevNo", 5, r -> r.info().devt().toString());
        num("major", "Maj", 3, r -> Integer.toString(r.info().devt().major()));
        num("minor", "Min", 3, r -> Integer.toString(r.info().devt().minor()));
        num("open", "Open", 4, r -> Integer.toString(r.info().openCount()));
        num("segments", "Targ", 4, r -> Integer.toString(r.info().targetCount()));
        num("events", "Event", 6, r -> Integer.toString(r.info().eventNumber()));
        num("device_count", "#Devs", 5, r -> Integer.toString(r.context().deps(r.info()).size()));
        str("devs_used", "DevNamesUsed", 16, r -> join(r.context().deps(r.info()), d -> r.context().mappedName(d)));
        str("devnos_used", "DevNosUsed", 16, r -> join(r.context().deps(r.info()), DevT::toString));
        str("blkdevs_used", "BlkDevNamesUsed", 16, r -> join(r.context().deps(r.info()), d -> r.context().kernelName(d)));
        num("device_ref_count", "#Refs", 5, r -> Integer.toString(r.context().users(r.info()).size()));
        str("names_using_dev", "RefNames", 8, r -> join(users(r), r.context()::mappedName));
        str("devnos_using_dev", "RefDevNos", 9, r -> join(users(r), DevT::toString));
    }

    private static void str(String id, String heading, int width, Function<Row, String> value) {
        FIELDS.put(id, new Field(id, heading, width, false, value));
    }

    private static void num(String id, String heading, int width, Function<Row, String> value) {
        FIELDS.put(id, new Field(id, heading, width, true, value));
    }

    private final List<Field> fields;
    private final boolean headings;
    private final boolean aligned;
    private final String separator;

    /**
     * @param options the -o value (null for the default fields; "+a,b" adds to them)
     * @param separator the --separator value, or null
     */
    DmsetupReport(String options, boolean noHeadings, String separator) {
        this.fields = fields(options);
        this.headings = !noHeadings;
        this.aligned = !noHeadings && separator == null;
        this.separator = separator != null ? separator : noHeadings ? ":" : " ";
    }

    /** The report of {@code devices}, in their order. */
    String print(List<DeviceInfo> devices, Context context) {
        List<String[]> rows = new ArrayList<>();
        for (DeviceInfo d : devices) {
            Row row = new Row(d, context);
            rows.add(fields.stream().map(f -> f.value().apply(row)).toArray(String[]::new));
        }
        int[] width = new int[fields.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = fields.get(i).width();
            for (String[] r : rows) width[i] = Math.max(width[i], r[i].length());
        }
        StringBuilder sb = new StringBuilder();
        if (headings) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < width.length; i++) {
                cells.add(aligned ? pad(fields.get(i).heading(), width[i], false) : fields.get(i).heading());
            }
            sb.append(String.join(separator, cells)).append('\n');
        }
        for (String[] r : rows) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < width.length; i++) cells.add(aligned ? pad(r[i], width[i], fields.get(i).number()) : r[i]);
            sb.append(String.join(separator, cells)).append('\n');
        }
        return sb.toString();
    }

    private static List<Field> fields(String options) {
        String list = options == null ? DEFAULT_FIELDS : options.startsWith("+") ? DEFAULT_FIELDS + "," + options.substring(1) : options;
        List<Field> fields = new ArrayList<>();
        for (String id : list.split(",")) {
            Field f = FIELDS.get(id.trim().toLowerCase(Locale.ROOT));
            if (f == null) {
                throw new CommandException("dmsetup info: Unrecognised field: " + id.trim()
                        + "\nFields dmstack reports: " + String.join(", ", FIELDS.keySet()));
            }
            fields.add(f);
        }
        return fields;
    }

    /** (L)ive, (I)nactive, (s)uspended, (r)ead-only or read-(w)rite. */
    private static String attr(DeviceInfo i) {
        return (i.liveTable() ? "L" : "-") + (i.inactiveTable() ? "I" : "-") + (i.suspended() ? "s" : "-") + (i.readOnly() ? "r" : "w");
    }

    private static String tables(DeviceInfo i) {
        if (i.liveTable()) return i.inactiveTable() ? "Both" : "Live";
        return i.inactiveTable() ? "Inactive" : "None";
    }

    private static List<DevT> users(Row r) {
        return r.context().users(r.info()).stream().map(DeviceInfo::devt).toList();
    }

    private static String join(List<DevT> devts, Function<DevT, String> show) {
        return devts.stream().map(show).filter(s -> !s.isEmpty()).collect(Collectors.joining(","));
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(Math.max(0, width - s.length()));
        return right ? fill + s : s + fill;
    }
}
