package org.dmstack.nfit;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.ToIntFunction;
import org.dmstack.units.Units;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nvdimm.Region;

/**
 * {@code ndctl list} output (ndctl v76-v78 list.c and json.c): the same JSON field names, order,
 * nesting and number formats, printed the way json-c pretty-prints.
 *
 * <ul>
 *   <li>{@code -B}: buses: provider ("ACPI.NFIT"), dev ("ndbus0", one per platform), scrub_state,
 *       with the other lists nested in them.
 *   <li>{@code -R}: regions: dev, size, align, available_size, max_available_extent, type,
 *       [numa_node, target_node], [mappings], [badblock_count], [badblocks], persistence_domain
 *       ("unknown" without platform capabilities), [namespaces]; no iset_id (see {@link #region}).
 *   <li>{@code -D}: dimms: dev, id, handle, phys_id, flag_failed_* / flag_smart_event; with
 *       {@code -R} each region also lists its mappings (dimm, offset, length, position).
 *   <li>{@code -N}: namespaces: dev, mode, [map], size, sector_size, blockdev, [numa_node,
 *       target_node], [badblock_count], [badblocks]; nested in their regions when {@code -R} is
 *       given too, in their bus with {@code -B}.
 *   <li>{@code -M}: media errors: badblocks (offset and length in 512-byte sectors, dimms).
 *   <li>{@code -u}: human: sizes as "4.00 GiB (4.29 GB)", ids and offsets as {@code %#llx}
 *       strings ("0x1", "0"), and a single object instead of a one-element array.
 *   <li>{@code -v}: numa_node and target_node, and -N -M; {@code -vv} also -B -D -R; {@code -vvv}
 *       adds nothing more here (no health, firmware or capability commands).
 *   <li>{@code -b -r -d -n -m -t}: filters, as ndctl's util/filter.c ({@link NdctlFilter}).
 * </ul>
 * Several lists print as one object ({@code {"dimms":[...],"regions":[...]}}), one list as a bare
 * array, as list_display decides; with {@code -RN} that is the object form when the last region
 * has namespaces. A region's type is "pmem" for volatile regions too, as ndctl reports every
 * region with I/O namespaces.
 */
public final class NdctlJson {
    /**
     * What to list, as ndctl's -B, -D, -R, -N, -M, -u and -v (a count), and the filters -b, -r,
     * -d, -n, -t, -m (null when not given).
     */
    public record Options(boolean buses, boolean dimms, boolean regions, boolean namespaces, boolean mediaErrors,
            boolean human, int verbose, String bus, String region, String dimm, String namespace, String type,
            String mode) {
        /** The lists and formats alone, without filters. */
        public Options(boolean buses, boolean dimms, boolean regions, boolean namespaces, boolean mediaErrors,
                boolean human, int verbose) {
            this(buses, dimms, regions, namespaces, mediaErrors, human, verbose, null, null, null, null, null, null);
        }

        /**
         * Parses ndctl-style arguments: "-R", "-RD", "-R -N -u", "--regions --dimms", "-vv",
         * "-r region0", "--dimm=nmem1". Like cmd_list: a filter alone lists what it filters (-b
         * buses, -r regions, -d dimms); -v adds -N and -M, -vv also -B, -D and -R; with none of
         * -B, -D, -R, -N, namespaces are listed (ndctl's default). -F, -H, -X, -i and -c are taken
         * and change nothing here (no firmware or health commands, no device-dax, no idle or
         * disabled devices), except that -X alone lists only devdax namespaces.
         *
         * @throws UsageException in parse-options' words ("unknown option `x'", "unknown switch
         *     `x'", "switch `r' requires a value", "unknown parameter \"x\"")
         * @throws IllegalArgumentException for a -t or -m value ndctl refuses, in its words
         */
        public static Options parse(String flags) {
            Set<Character> on = new HashSet<>();
            int v = 0;
            Map<Character, String> values = new LinkedHashMap<>();
            List<String> words = List.of(flags.trim().split("\\s+"));
            for (int i = 0; i < words.size(); i++) {
                String word = words.get(i);
                if (word.isEmpty()) continue;
                if (word.startsWith("--")) {
                    String name = word.substring(2);
                    String value = null;
                    if (name.contains("=")) {
                        value = name.substring(name.indexOf('=') + 1);
                        name = name.substring(0, name.indexOf('='));
                    }
                    Character filter = FILTERS.get(name);
                    Character option = SWITCHES.get(name);
                    if (filter != null) {
                        if (value == null) {
                            if (i + 1 >= words.size()) throw new UsageException("option `" + name + "' requires a value");
                            value = words.get(++i);
                        }
                        values.put(filter, value);
                    } else if (option == null) {
                        throw new UsageException("unknown option `" + name + "'");
                    } else if (value != null) {
                        throw new UsageException("option `" + name + "' takes no value");
                    } else if (option == 'v') {
                        v++;
                    } else {
                        on.add(option);
                    }
                } else if (word.startsWith("-") && word.length() > 1) {
                    for (int k = 1; k < word.length(); k++) {
                        char c = word.charAt(k);
                        if (FILTERS.containsValue(c)) {
                            // parse-options: a value option takes the rest of the word, or the next one.
                            String value = word.substring(k + 1);
                            if (value.isEmpty()) {
                                if (i + 1 >= words.size()) throw new UsageException("switch `" + c + "' requires a value");
                                value = words.get(++i);
                            }
                            values.put(c, value);
                            break;
                        }
                        if (!SWITCHES.containsValue(c)) throw new UsageException("unknown switch `" + c + "'");
                        if (c == 'v') v++;
                        else on.add(c);
                    }
                } else {
                    throw new UsageException("unknown parameter \"" + word + "\"");
                }
            }
            boolean b = on.contains('B'), d = on.contains('D'), r = on.contains('R'), n = on.contains('N');
            boolean m = on.contains('M');
            if (!b && !d && !r && !n) {
                b = values.containsKey('b');
                r = values.containsKey('r');
                d = values.containsKey('d');
                // -X alone lists device-dax namespaces only.
                if (on.contains('X')) values.putIfAbsent('m', "dax");
            }
            if (v >= 2) {
                b = true;
                d = true;
                r = true;
            }
            if (v >= 1) {
                m = true;
                n = true;
            }
            if (!b && !d && !r && !n) n = true;
            Options o = new Options(b, d, r, n, m, on.contains('u'), v, values.get('b'), values.get('r'), values.get('d'),
                    values.get('n'), values.get('t'), values.get('m'));
            NdctlFilter.check(o);
            return o;
        }

        /** ndctl list's value options, by long name. */
        private static final Map<String, Character> FILTERS = Map.of("bus", 'b', "region", 'r', "dimm", 'd',
                "namespace", 'n', "type", 't', "mode", 'm');
        /** Its switches this listing takes, by long name. */
        private static final Map<String, Character> SWITCHES = Map.ofEntries(Map.entry("buses", 'B'),
                Map.entry("dimms", 'D'), Map.entry("regions", 'R'), Map.entry("namespaces", 'N'),
                Map.entry("media-errors", 'M'), Map.entry("human", 'u'), Map.entry("verbose", 'v'),
                Map.entry("firmware", 'F'), Map.entry("health", 'H'), Map.entry("device-dax", 'X'),
                Map.entry("idle", 'i'), Map.entry("configured", 'c'));
    }

    /** An argument parse-options refuses; ndctl prints the usage after it. */
    public static final class UsageException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private NdctlJson() {}

    /** One NVDIMM bus (a platform): its regions and NVDIMMs, and each region's NUMA node. */
    private record Bus(String dev, List<Region> regions, List<NfitPlatform.Dimm> dimms, ToIntFunction<Region> numaNode) {}

    /** {@code ndctl list <flags>} for a platform. */
    public static String list(NfitPlatform platform, NamespaceInfo namespaces, String flags) {
        return list(List.of(platform), namespaces, Options.parse(flags));
    }

    /** {@code ndctl list} for platforms, one NVDIMM bus each (ndbus0, ndbus1, ...). */
    public static String list(List<NfitPlatform> platforms, NamespaceInfo namespaces, Options o) {
        List<Bus> buses = new ArrayList<>();
        for (NfitPlatform p : platforms) buses.add(new Bus("ndbus" + buses.size(), p.regions(), p.dimms(), p::numaNode));
        return walk(buses, namespaces, o);
    }

    /**
     * {@code ndctl list} for regions and NVDIMMs on one bus, ndbus0, all of NUMA node 0.
     *
     * @return the JSON text with a trailing newline, or "" when nothing matches (ndctl prints nothing)
     */
    public static String list(List<Region> regions, List<NfitPlatform.Dimm> dimms, NamespaceInfo namespaces,
            Options o) {
        return walk(List.of(new Bus("ndbus0", regions, dimms, r -> 0)), namespaces, o);
    }

    /** cmd_list's walk (util_filter_walk with filter_bus, filter_dimm, filter_region, filter_namespace). */
    private static String walk(List<Bus> buses, NamespaceInfo namespaces, Options o) {
        List<Object> jbuses = null;
        List<Object> jdimms = null;
        List<Object> jregions = null;
        List<Object> jnamespaces = null;
        Map<String, Object> jregion = null;
        NdctlFilter filter = new NdctlFilter(o, namespaces);
        for (Bus bus : buses) {
            if (!filter.bus(bus.dev(), buses.indexOf(bus), bus.regions(), bus.dimms())) continue;
            // Lists are local to a bus once buses are listed: the last bus's were nested in it.
            if (jbuses != null) {
                jdimms = null;
                jregions = null;
                jnamespaces = null;
                jregion = null;
            }
            Map<String, Object> jbus = null;
            if (o.buses()) {
                if (jbuses == null) jbuses = new ArrayList<>();
                jbus = new LinkedHashMap<>();
                jbus.put("provider", "ACPI.NFIT");
                jbus.put("dev", bus.dev());
                jbus.put("scrub_state", "idle");
                jbuses.add(jbus);
            }
            if (o.dimms()) {
                for (NfitPlatform.Dimm d : bus.dimms()) {
                    if (!filter.dimm(d, bus.regions())) continue;
                    if (jdimms == null) {
                        jdimms = new ArrayList<>();
                        if (jbus != null) jbus.put("dimms", jdimms);
                    }
                    jdimms.add(dimm(d, o));
                }
            }
            for (Region r : bus.regions()) {
                if (!filter.region(r, bus.dimms())) continue;
                int numa = bus.numaNode().applyAsInt(r);
                if (o.regions()) {
                    if (jregions == null) {
                        jregions = new ArrayList<>();
                        if (jbus != null) jbus.put("regions", jregions);
                    }
                    jregion = region(r, numa, o);
                    // filter_region starts a new namespace array per region, but list_display still counts
                    // the last region's: with -RN the object form is printed when the last region has namespaces.
                    jnamespaces = null;
                    jregions.add(jregion);
                }
                if (!o.namespaces()) continue;
                for (NamespaceInfo.Namespace ns : namespaces.namespaces(r)) {
                    if (!filter.namespace(ns)) continue;
                    if (jnamespaces == null) {
                        jnamespaces = new ArrayList<>();
                        Map<String, Object> container = jregion != null ? jregion : jbus;
                        if (container != null) container.put("namespaces", jnamespaces);
                    }
                    jnamespaces.add(namespace(ns, r, numa, o));
                }
            }
        }
        if (jbuses != null) return display(jbuses, o);
        int lists = (jdimms != null ? 1 : 0) + (jregions != null ? 1 : 0) + (jnamespaces != null ? 1 : 0);
        if (lists > 1) {
            Map<String, Object> platform = new LinkedHashMap<>();
            if (jdimms != null) platform.put("dimms", jdimms);
            if (jregions != null) platform.put("regions", jregions);
            if (jnamespaces != null && jregions == null) platform.put("namespaces", jnamespaces);
            return Json.pretty(platform) + "\n";
        }
        List<Object> only = jdimms != null ? jdimms : jregions != null ? jregions : jnamespaces;
        return only == null ? "" : display(only, o);
    }

    /**
     * What {@code ndctl inject-error} prints after injecting or un-injecting: the namespace as
     * util_namespace_to_json gives it with media errors (and -u when {@code human}).
     */
    public static String injectedNamespace(NfitPlatform platform, Region region, NamespaceInfo.Namespace ns, boolean human) {
        Options o = new Options(false, false, false, true, true, human, 0);
        return Json.pretty(namespace(ns, region, platform.numaNode(region), o)) + "\n";
    }

    /** util_display_json_array: with -u, a single element prints without its array. */
    private static String display(List<Object> list, Options o) {
        if (list.size() == 1 && o.human()) return Json.pretty(list.getFirst()) + "\n";
        return Json.pretty(list) + "\n";
    }

    /** One region object, as ndctl's region_to_json (without namespaces). */
    static Map<String, Object> region(Region r, int numaNode, Options o) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("dev", r.name());
        j.put("size", size(r.size(), o));
        j.put("align", size(defaultAlign(r), o));
        // These NVDIMMs have no label area (no config-data command): the nvdimm driver binds without
        // driver data, so nd_region_available_dpa and nd_region_allocatable_dpa find no free space.
        j.put("available_size", size(0, o));
        j.put("max_available_extent", size(0, o));
        j.put("type", "pmem");
        if (o.verbose() > 0) {
            j.put("numa_node", numaNode);
            j.put("target_node", numaNode);
        }
        // No iset_id: ndctl_region_get_interleave_set gives one only for regions of nstype
        // namespace_pmem, i.e. with label-capable NVDIMMs. dmstack's NVDIMMs, like QEMU's without
        // label-size, have no label area, so every region is namespace_io (Linux still has the
        // set_cookie, Region.isetId()).
        if (o.dimms() && !r.mappings().isEmpty()) {
            List<Object> maps = new ArrayList<>();
            for (Region.Mapping m : r.mappings()) {
                Map<String, Object> jm = new LinkedHashMap<>();
                jm.put("dimm", m.dimm());
                jm.put("offset", hex(m.offset(), o));
                jm.put("length", hex(m.length(), o));
                jm.put("position", m.position());
                maps.add(jm);
            }
            j.put("mappings", maps);
        }
        putBadblocks(j, r, o);
        j.put("persistence_domain", persistenceDomain(r));
        return j;
    }

    /**
     * util_region_badblocks_to_json: the count of bad sectors and, with -M, each run (a one-way
     * region names its NVDIMM, as ndctl_bus_get_dimm_by_physical_address does without asking the
     * firmware; interleaved regions would need Translate SPA, so they name none).
     */
    private static void putBadblocks(Map<String, Object> j, Region r, Options o) {
        TreeMap<Long, Long> bad = badSectors(r);
        long count = bad.values().stream().mapToLong(Long::longValue).sum();
        if (count == 0) return;
        j.put("badblock_count", count);
        if (!o.mediaErrors()) return;
        List<Object> jbbs = new ArrayList<>();
        for (Map.Entry<Long, Long> e : bad.entrySet()) {
            Map<String, Object> jb = new LinkedHashMap<>();
            jb.put("offset", e.getKey());
            jb.put("length", e.getValue());
            if (r.mappings().size() == 1) jb.put("dimms", List.of(r.mappings().getFirst().dimm()));
            jbbs.add(jb);
        }
        j.put("badblocks", jbbs);
    }

    /** util_dimm_to_json: handle and phys_id only when not all ones. */
    static Map<String, Object> dimm(NfitPlatform.Dimm d, Options o) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("dev", d.name());
        if (d.uniqueId() != null) j.put("id", d.uniqueId());
        if (d.handle() != 0xFFFF_FFFFL) j.put("handle", hex(d.handle(), o));
        if (d.physicalId() != 0xFFFF) j.put("phys_id", hex(d.physicalId(), o));
        if (d.has(MemoryMap.FLAG_MAP_FAILED)) j.put("flag_failed_map", true);
        if (d.has(MemoryMap.FLAG_SAVE_FAILED)) j.put("flag_failed_save", true);
        if (d.has(MemoryMap.FLAG_NOT_ARMED)) j.put("flag_failed_arm", true);
        if (d.has(MemoryMap.FLAG_RESTORE_FAILED)) j.put("flag_failed_restore", true);
        if (d.has(MemoryMap.FLAG_FLUSH_FAILED)) j.put("flag_failed_flush", true);
        if (d.has(MemoryMap.FLAG_HEALTH_OBSERVED)) j.put("flag_smart_event", true);
        return j;
    }

    /** util_namespace_to_json; a raw namespace reports its region's bad blocks. */
    static Map<String, Object> namespace(NamespaceInfo.Namespace ns, Region r, int numaNode, Options o) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("dev", ns.dev());
        j.put("mode", ns.mode());
        if (ns.mode().equals("fsdax") || ns.mode().equals("devdax")) j.put("map", "mem");
        j.put("size", size(ns.size(), o));
        if (!ns.mode().equals("devdax")) j.put("sector_size", 512);
        if (ns.blockdev() != null && !ns.blockdev().isEmpty()) j.put("blockdev", ns.blockdev());
        if (o.verbose() > 0) {
            j.put("numa_node", numaNode);
            j.put("target_node", numaNode);
        }
        if (ns.mode().equals("raw")) putBadblocks(j, r, o);
        return j;
    }

    /** Linux's default_align (region_devs.c): 16 MiB (a page for small regions), times the ways if uneven. */
    static long defaultAlign(Region r) {
        long align = 16L << 20;
        if (r.size() < align) align = Units.PAGE_SIZE;
        int mappings = Math.max(1, r.mappings().size());
        if (align % mappings != 0) align *= mappings;
        return align;
    }

    /** The region's poison as bad 512-byte sectors: start sector to count, merged. */
    static TreeMap<Long, Long> badSectors(Region r) {
        TreeMap<Long, Long> out = new TreeMap<>();
        for (Region.PoisonRange p : r.poison()) {
            long start = p.offset() >>> Units.SECTOR_SHIFT;
            long end = (p.offset() + p.length() + Units.SECTOR_SIZE - 1) >>> Units.SECTOR_SHIFT;
            Map.Entry<Long, Long> before = out.floorEntry(start);
            if (before != null && before.getKey() + before.getValue() >= start) {
                start = before.getKey();
                end = Math.max(end, before.getKey() + before.getValue());
            }
            for (Map.Entry<Long, Long> e = out.ceilingEntry(start); e != null && e.getKey() <= end; e = out.ceilingEntry(start)) {
                end = Math.max(end, e.getKey() + e.getValue());
                out.remove(e.getKey());
            }
            out.put(start, end - start);
        }
        return out;
    }

    private static Object size(long bytes, Options o) {
        return o.human() ? humanSize(bytes) : bytes;
    }

    /**
     * ndctl_region_get_persistence_domain reads the region's sysfs persistence_domain; anything but
     * the two words Linux writes (an empty file when the NFIT has no capabilities) is "unknown".
     */
    static String persistenceDomain(Region r) {
        String sysfs = r.persistenceDomain().sysfsName();
        return sysfs.isEmpty() ? "unknown" : sysfs;
    }

    /** util_json_object_hex: a number, or with -u C's {@code %#llx} (so 0 is "0", not "0x0"). */
    private static Object hex(long value, Options o) {
        if (!o.human()) return value;
        return value == 0 ? "0" : "0x" + Long.toHexString(value);
    }

    /** ndctl's display_size (from mdadm): bytes, or "x.xx MiB (y.yy MB)" / "x.xx GiB (y.yy GB)". */
    static Object humanSize(long bytes) {
        if (bytes < 5000L * 1024) return bytes;
        if (bytes < 2L * 1024 * 1024 * 1024) {
            long cMiB = (bytes * 200 / (1L << 20) + 1) / 2;
            long cMB = (bytes / (1000000L / 200) + 1) / 2;
            return String.format(Locale.ROOT, "%d.%02d MiB (%d.%02d MB)", cMiB / 100, cMiB % 100, cMB / 100, cMB % 100);
        }
        long cGiB = (Math.multiplyExact(bytes, 200L) / (1L << 30) + 1) / 2;
        long cGB = (bytes / (1000000000L / 200) + 1) / 2;
        return String.format(Locale.ROOT, "%d.%02d GiB (%d.%02d GB)", cGiB / 100, cGiB % 100, cGB / 100, cGB % 100);
    }
}
