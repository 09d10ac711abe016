package org.dmstack.nfit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.dmstack.units.Units;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nvdimm.Region;

/**
 * {@code ndctl list} output (ndctl's list.c and json.c): the same JSON field names, order, nesting
 * and number formats, printed the way json-c pretty-prints.
 *
 * <ul>
 *   <li>{@code -R}: regions: dev, size, align, available_size, max_available_extent, type,
 *       [mappings], [badblock_count], [badblocks], persistence_domain ("unknown" without platform
 *       capabilities), [namespaces]; no iset_id (see {@link #region}).
 *   <li>{@code -D}: dimms: dev, id, handle, phys_id, flag_failed_* / flag_smart_event; with
 *       {@code -R} each region also lists its mappings (dimm, offset, length, position).
 *   <li>{@code -N}: namespaces: dev, mode, [map], size, sector_size, blockdev; nested in their
 *       regions when {@code -R} is given too.
 *   <li>{@code -M}: media errors: badblocks (offset and length in 512-byte sectors, dimms).
 *   <li>{@code -u}: human: sizes as "4.00 GiB (4.29 GB)", ids and offsets as {@code %#llx}
 *       strings ("0x1", "0"), and a single object instead of a one-element array.
 * </ul>
 * Several lists print as one object ({@code {"dimms":[...],"regions":[...]}}), one list as a bare
 * array, as list_display decides; with {@code -RN} that is the object form when the last region
 * has namespaces. A region's type is "pmem" for volatile regions too, as ndctl reports every
 * region with I/O namespaces.
 */
public final class NdctlJson {
    /** What to list, as ndctl's -D, -R, -N, -M and -u. */
    public record Options(boolean dimms, boolean regions, boolean namespaces, boolean mediaErrors, boolean human) {
        /**
         * Parses ndctl-style flags: "-R", "-RD", "-R -N -u", "--regions --dimms". With none of
         * -D, -R, -N, namespaces are listed (ndctl's default).
         */
        public static Options parse(String flags) {
            boolean d = false, r = false, n = false, m = false, u = false;
            for (String word : flags.trim().split("\\s+")) {
                if (word.isEmpty()) continue;
                if (word.startsWith("--")) {
                    switch (word) {
                        case "--dimms" -> d = true;
                        case "--regions" -> r = true;
                        case "--namespaces" -> n = true;
                        case "--media-errors" -> m = true;
                        case "--human" -> u = true;
                        default -> throw new IllegalArgumentException("unknown option " + word);
                    }
                } else if (word.startsWith("-")) {
                    for (char c : word.substring(1).toCharArray()) {
                        switch (c) {
                            case 'D' -> d = true;
                            case 'R' -> r = true;
                            case 'N' -> n = true;
                            case 'M' -> m = true;
                            case 'u' -> u = true;
                            default -> throw new IllegalArgumentException("unknown option -" + c);
                        }
                    }
                } else {
                    throw new IllegalArgumentException("unknown parameter \"" + word + "\"");
                }
            }
            if (!d && !r && !n) n = true;
            return new Options(d, r, n, m, u);
        }
    }

    private NdctlJson() {}

    /** {@code ndctl list <flags>} for a platform. */
    public static String list(NfitPlatform platform, NamespaceInfo namespaces, String flags) {
        return list(platform.regions(), platform.dimms(), namespaces, Options.parse(flags));
    }

    /**
     * {@code ndctl list} for regions and NVDIMMs (possibly from several platforms).
     *
     * @return the JSON text with a trailing newline, or "" when nothing matches (ndctl prints nothing)
     */
    public static String list(List<Region> regions, List<NfitPlatform.Dimm> dimms, NamespaceInfo namespaces,
            Options o) {
        List<Object> jdimms = null;
        List<Object> jregions = null;
        List<Object> jnamespaces = null;
        if (o.dimms() && !dimms.isEmpty()) {
            jdimms = new ArrayList<>();
            for (NfitPlatform.Dimm d : dimms) jdimms.add(dimm(d, o));
        }
        for (Region r : regions) {
            List<NamespaceInfo.Namespace> nss = namespaces.namespaces(r);
            if (o.regions()) {
                if (jregions == null) jregions = new ArrayList<>();
                Map<String, Object> jr = region(r, nss, o);
                // filter_region starts a new namespace array per region, but list_display still counts
                // the last region's: with -RN the object form is printed when the last region has namespaces.
                jnamespaces = null;
                if (o.namespaces() && !nss.isEmpty()) {
                    jnamespaces = new ArrayList<>();
                    for (NamespaceInfo.Namespace ns : nss) jnamespaces.add(namespace(ns, r, o));
                    jr.put("namespaces", jnamespaces);
                }
                jregions.add(jr);
            } else if (o.namespaces()) {
                for (NamespaceInfo.Namespace ns : nss) {
                    if (jnamespaces == null) jnamespaces = new ArrayList<>();
                    jnamespaces.add(namespace(ns, r, o));
                }
            }
        }
        int lists = (jdimms != null ? 1 : 0) + (jregions != null ? 1 : 0) + (jnamespaces != null ? 1 : 0);
        if (lists > 1) {
            Map<String, Object> platform = new LinkedHashMap<>();
            if (jdimms != null) platform.put("dimms", jdimms);
            if (jregions != null) platform.put("regions", jregions);
            if (jnamespaces != null && jregions == null) platform.put("namespaces", jnamespaces);
            return Json.pretty(platform) + "\n";
        }
        List<Object> only = jdimms != null ? jdimms : jregions != null ? jregions : jnamespaces;
        if (only == null) return "";
        if (only.size() == 1 && o.human()) return Json.pretty(only.getFirst()) + "\n";
        return Json.pretty(only) + "\n";
    }

    /** One region object, as ndctl's region_to_json (without namespaces). */
    static Map<String, Object> region(Region r, List<NamespaceInfo.Namespace> nss, Options o) {
        Map<String, Object> j = new LinkedHashMap<>();
        long used = 0;
        for (NamespaceInfo.Namespace ns : nss) used += ns.size();
        long available = Math.max(0, r.size() - used);
        j.put("dev", r.name());
        j.put("size", size(r.size(), o));
        j.put("align", size(defaultAlign(r), o));
        j.put("available_size", size(available, o));
        j.put("max_available_extent", size(available, o));
        j.put("type", "pmem");
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
        TreeMap<Long, Long> bad = badSectors(r);
        long count = bad.values().stream().mapToLong(Long::longValue).sum();
        if (count > 0) j.put("badblock_count", count);
        if (o.mediaErrors() && count > 0) {
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
        j.put("persistence_domain", persistenceDomain(r));
        return j;
    }

    static Map<String, Object> dimm(NfitPlatform.Dimm d, Options o) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("dev", d.name());
        if (d.uniqueId() != null) j.put("id", d.uniqueId());
        j.put("handle", hex(d.handle(), o));
        j.put("phys_id", hex(d.physicalId(), o));
        if (d.has(MemoryMap.FLAG_MAP_FAILED)) j.put("flag_failed_map", true);
        if (d.has(MemoryMap.FLAG_SAVE_FAILED)) j.put("flag_failed_save", true);
        if (d.has(MemoryMap.FLAG_NOT_ARMED)) j.put("flag_failed_arm", true);
        if (d.has(MemoryMap.FLAG_RESTORE_FAILED)) j.put("flag_failed_restore", true);
        if (d.has(MemoryMap.FLAG_FLUSH_FAILED)) j.put("flag_failed_flush", true);
        if (d.has(MemoryMap.FLAG_HEALTH_OBSERVED)) j.put("flag_smart_event", true);
        return j;
    }

    static Map<String, Object> namespace(NamespaceInfo.Namespace ns, Region r, Options o) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("dev", ns.dev());
        j.put("mode", ns.mode());
        if (ns.mode().equals("fsdax") || ns.mode().equals("devdax")) j.put("map", "mem");
        j.put("size", size(ns.size(), o));
        if (!ns.mode().equals("devdax")) j.put("sector_size", 512);
        if (ns.blockdev() != null && !ns.blockdev().isEmpty()) j.put("blockdev", ns.blockdev());
        if (ns.mode().equals("raw")) {
            long count = badSectors(r).values().stream().mapToLong(Long::longValue).sum();
            if (count > 0) j.put("badblock_count", count);
        }
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
