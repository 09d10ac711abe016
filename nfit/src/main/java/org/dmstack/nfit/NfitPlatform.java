package org.dmstack.nfit;

import org.dmstack.nvdimm.MediaErrorListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmstack.units.Units;
import org.dmstack.nfit.Subtable.ControlRegion;
import org.dmstack.nfit.Subtable.FlushHint;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nvdimm.Region;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A platform as Linux's nfit driver sees it: a parsed NFIT plus where each region's bytes live
 * and the address-range-scrub results. It turns every SPA range of the persistent- or
 * volatile-memory kind into a {@link Region} (in table order: region0, region1, ...) and every
 * NVDIMM named by a memory-device map into a {@link Dimm} (nmem0, nmem1, ... in ascending device
 * handle order, as Linux sorts them). Empty ranges and maps naming no range of the table are
 * skipped (see {@link NfitParser}).
 *
 * <p>Per region: the size and start come from the SPA range; the mappings from the memory-device
 * maps naming it (DPA offset, length, and position = rank by region offset, as Linux); the
 * interleave ways from how many NVDIMMs map it; the flush hints from those NVDIMMs' flush hint
 * subtables; the iset_id from Linux's v1.1 interleave-set cookie (persistent regions with
 * NVDIMMs); the persistence domain from the platform capabilities (bit 0: cpu_cache, else bit 1:
 * memory_controller, else none); poison from the scrub results that fall in the range; read-only
 * when one of its NVDIMMs is not armed (or as its sysfs read_only was last written,
 * {@link #setReadOnly}).
 */
public final class NfitPlatform {
    private static final Logger LOG = LoggerFactory.getLogger(NfitPlatform.class);

    /** An address-range-scrub result: a poisoned range of system physical addresses. */
    public record SpaPoison(long address, long length) {
        public SpaPoison {
            if (length <= 0) throw new IllegalArgumentException("poison length must be positive: " + length);
        }

        /** Parses {@code ADDRESS:LENGTH}; numbers hex (0x...) or decimal, the length may carry K/M/G. */
        public static SpaPoison parse(String text) {
            String[] parts = text.trim().split(":");
            if (parts.length != 2) {
                throw new IllegalArgumentException("Invalid poison '" + text + "': expected ADDRESS:LENGTH");
            }
            try {
                return new SpaPoison(number(parts[0]), number(parts[1]));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Invalid poison '" + text + "': " + e.getMessage(), e);
            }
        }

        static long number(String text) {
            String t = text.trim();
            if (t.startsWith("0x") || t.startsWith("0X")) return Long.parseUnsignedLong(t.substring(2), 16);
            return Units.parseSize(t);
        }
    }

    /**
     * An NVDIMM (ndctl's "dimm").
     *
     * @param uniqueId Linux's id from the control region ("8680-56341200")
     * @param flags the memory-device map health flags, ORed over its maps
     */
    public record Dimm(String name, int id, long handle, int physicalId, String uniqueId, int flags,
            List<Long> flushHints) {
        public Dimm {
            flushHints = List.copyOf(flushHints);
        }

        public boolean has(int memoryMapFlag) {
            return (flags & memoryMapFlag) != 0;
        }

        /**
         * The NVDIMM's sysfs nfit/flags (core.c flags_show): each flag set, in this order, followed
         * by a space, e.g. "not_armed smart_event ".
         */
        public String nfitFlags() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < FLAG_NAMES.length; i++) if (has(FLAG_BITS[i])) sb.append(FLAG_NAMES[i]).append(' ');
            return sb.toString();
        }

        /**
         * What acpi_nfit_register_dimms logs (dev_err) for an NVDIMM with a failure flag
         * (ACPI_NFIT_MEM_FAILED_MASK: save, restore, flush, arm, map), or null when it has none.
         */
        public String errorMessage() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < FAILED_NAMES.length; i++) if (has(FAILED_BITS[i])) sb.append(' ').append(FAILED_NAMES[i]);
            return sb.isEmpty() ? null : "Error found in NVDIMM " + name + " flags:" + sb;
        }

        /** Whether libnvdimm marks the NVDIMM NDD_UNARMED: its writes may not persist, so its regions are read-only. */
        public boolean unarmed() {
            return has(MemoryMap.FLAG_NOT_ARMED);
        }

        private static final int[] FLAG_BITS = {MemoryMap.FLAG_SAVE_FAILED, MemoryMap.FLAG_RESTORE_FAILED,
            MemoryMap.FLAG_FLUSH_FAILED, MemoryMap.FLAG_NOT_ARMED, MemoryMap.FLAG_HEALTH_OBSERVED, MemoryMap.FLAG_MAP_FAILED,
            MemoryMap.FLAG_HEALTH_ENABLED};
        private static final String[] FLAG_NAMES = {"save_fail", "restore_fail", "flush_fail", "not_armed", "smart_event",
            "map_fail", "smart_notify"};
        private static final int[] FAILED_BITS = {MemoryMap.FLAG_SAVE_FAILED, MemoryMap.FLAG_RESTORE_FAILED,
            MemoryMap.FLAG_FLUSH_FAILED, MemoryMap.FLAG_NOT_ARMED, MemoryMap.FLAG_MAP_FAILED};
        private static final String[] FAILED_NAMES = {"save_fail", "restore_fail", "flush_fail", "not_armed", "map_fail"};
    }

    private final Nfit nfit;
    private final List<Region.Backing> backings;
    private final int firstRegionId;
    private final List<Dimm> dimms;
    private final Map<Long, Dimm> dimmByHandle = new LinkedHashMap<>();
    private final List<SpaRange> regionRanges;
    private final List<MediaErrorListener> listeners = new CopyOnWriteArrayList<>();
    private List<SpaPoison> poison;
    /** Regions whose sysfs read_only was written, and what was written. */
    private final Map<String, Boolean> readOnlyWritten = new LinkedHashMap<>();
    private volatile List<Region> regions;

    /** A platform whose regions are region0... and NVDIMMs nmem0... */
    public NfitPlatform(Nfit nfit, List<Region.Backing> backings, List<SpaPoison> poison) {
        this(nfit, backings, poison, 0, 0);
    }

    /**
     * A platform whose region and NVDIMM numbers start at the given ids (several platforms in
     * one process get distinct names, as several NVDIMM buses do in Linux).
     *
     * @param backings one per region, in region order
     * @throws NfitException when a region has no backing or an unusable one, or a range's size is
     *     not a whole number of pages
     */
    public NfitPlatform(Nfit nfit, List<Region.Backing> backings, List<SpaPoison> poison, int firstRegionId,
            int firstDimmId) {
        this.nfit = Objects.requireNonNull(nfit, "nfit");
        this.backings = List.copyOf(backings);
        this.poison = List.copyOf(poison);
        this.firstRegionId = firstRegionId;
        this.regionRanges = nfit.regionRanges();
        this.dimms = buildDimms(firstDimmId);
        checkBackings();
        warnStrayPoison();
        this.regions = buildRegions();
    }

    /** A platform from a table file (such as a copy of /sys/firmware/acpi/tables/NFIT). */
    public static NfitPlatform fromTable(Path table, List<Region.Backing> backings, List<SpaPoison> poison)
            throws IOException {
        return new NfitPlatform(NfitParser.parse(table), backings, poison);
    }

    public Nfit nfit() {
        return nfit;
    }

    /** The regions, in region order, with the poison known now. */
    public List<Region> regions() {
        return regions;
    }

    public Optional<Region> region(String name) {
        return regions.stream().filter(r -> r.name().equals(name)).findFirst();
    }

    public List<Dimm> dimms() {
        return dimms;
    }

    /** The current address-range-scrub results. */
    public synchronized List<SpaPoison> poison() {
        return poison;
    }

    /** What the platform capabilities promise for every region. */
    public Region.PersistenceDomain persistenceDomain() {
        long caps = nfit.capabilities().map(Subtable.Capabilities::effective).orElse(0L);
        if ((caps & Subtable.Capabilities.CACHE_FLUSH) != 0) return Region.PersistenceDomain.CPU_CACHE;
        if ((caps & Subtable.Capabilities.MEMORY_FLUSH) != 0) return Region.PersistenceDomain.MEMORY_CONTROLLER;
        return Region.PersistenceDomain.NONE;
    }

    /**
     * The NUMA node of one of this platform's regions: its SPA range's proximity domain when the
     * range marks it valid, else node 0 (Linux falls back to the node of the address, node 0 on a
     * machine without NUMA). Proximity domains are taken as node numbers, as an SRAT mapping
     * them one to one would.
     */
    public int numaNode(Region region) {
        int index = region.id() - firstRegionId;
        if (index < 0 || index >= regionRanges.size()) throw new IllegalArgumentException("not a region of this platform: " + region.name());
        SpaRange s = regionRanges.get(index);
        return (s.flags() & SpaRange.FLAG_PROXIMITY_VALID) != 0 ? (int) s.proximityDomain() : 0;
    }

    public void addMediaErrorListener(MediaErrorListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeMediaErrorListener(MediaErrorListener listener) {
        listeners.remove(listener);
    }

    /**
     * Injects a media error into {@code length} bytes at {@code offset} of a region, like
     * {@code ndctl inject-error}: the scrub results gain the range (so {@link #regions()} shows it)
     * and every {@link MediaErrorListener} is told, so the pmem device's memory and bad blocks
     * follow.
     *
     * @return the region as it is now
     */
    public Region injectError(String regionName, long offset, long length) {
        Region region = changePoison(regionName, offset, length, true);
        Region.PoisonRange range = new Region.PoisonRange(offset, length);
        for (MediaErrorListener l : listeners) l.poisonInjected(region, range);
        return region;
    }

    /** Clears media errors in a range of a region, like {@code ndctl inject-error --uninject}. */
    public Region clearError(String regionName, long offset, long length) {
        Region region = changePoison(regionName, offset, length, false);
        Region.PoisonRange range = new Region.PoisonRange(offset, length);
        for (MediaErrorListener l : listeners) l.poisonCleared(region, range);
        return region;
    }

    /**
     * Writes the region's sysfs read_only (region_devs.c read_only_store): the region becomes
     * read-only or read-write whatever its NVDIMMs say, and every listener is told
     * (NVDIMM_REVALIDATE_REGION), so the pmem disk over it follows. Writing 0 over an unarmed
     * NVDIMM is the administrator's override: its writes may still not persist.
     *
     * @return the region as it is now
     * @throws IllegalArgumentException when the platform has no such region
     */
    public Region setReadOnly(String regionName, boolean readOnly) {
        Region region;
        synchronized (this) {
            region(regionName).orElseThrow(() -> new IllegalArgumentException("no region " + regionName));
            readOnlyWritten.put(regionName, readOnly);
            regions = buildRegions();
            region = region(regionName).orElseThrow();
        }
        for (MediaErrorListener l : listeners) l.regionRevalidated(region);
        return region;
    }

    private synchronized Region changePoison(String regionName, long offset, long length, boolean inject) {
        Region r = region(regionName).orElseThrow(() -> new IllegalArgumentException("no region " + regionName));
        if (offset < 0 || length <= 0 || offset > r.size() - length) {
            throw new IllegalArgumentException(String.format("%s: range 0x%x+0x%x is outside the region (size 0x%x)",
                    regionName, offset, length, r.size()));
        }
        long start = r.spaStart() + offset;
        long end = start + length;
        List<SpaPoison> next = new ArrayList<>();
        for (SpaPoison p : poison) {
            long pEnd = p.address() + p.length();
            if (inject || pEnd <= start || p.address() >= end) {
                next.add(p);
                continue;
            }
            if (p.address() < start) next.add(new SpaPoison(p.address(), start - p.address()));
            if (pEnd > end) next.add(new SpaPoison(end, pEnd - end));
        }
        if (inject) next.add(new SpaPoison(start, length));
        poison = List.copyOf(next);
        regions = buildRegions();
        return region(regionName).orElseThrow();
    }

    private List<Dimm> buildDimms(int firstDimmId) {
        // Linux sorts its NVDIMMs by device handle (nfit_mem_cmp) before registering them as nmem0, nmem1...
        Map<Long, List<MemoryMap>> byHandle = new TreeMap<>(Long::compareUnsigned);
        for (MemoryMap m : nfit.memoryMaps()) byHandle.computeIfAbsent(m.deviceHandle(), h -> new ArrayList<>()).add(m);
        List<Dimm> out = new ArrayList<>();
        int id = firstDimmId;
        for (Map.Entry<Long, List<MemoryMap>> e : byHandle.entrySet()) {
            if (e.getValue().stream().noneMatch(this::makesDimm)) continue;
            MemoryMap first = e.getValue().getFirst();
            int flags = 0;
            for (MemoryMap m : e.getValue()) flags |= m.flags();
            // acpi_nfit_add_dimm reads the NVDIMM's control region unconditionally: without one Linux oopses.
            ControlRegion dcr = e.getValue().stream().map(m -> nfit.controlRegion(m.controlRegionIndex()))
                    .flatMap(Optional::stream).findFirst().orElseThrow(() -> new NfitException(offsetOf(first), String.format(
                            "NVDIMM handle %#x has no control region: its memory device maps name control region index 0 "
                                    + "(Linux's acpi_nfit_add_dimm needs one)", e.getKey())));
            String unique = uniqueId(dcr);
            // __nfit_mem_init takes the first flush hint structure of the handle; later ones are ignored.
            List<Long> hints = nfit.all(FlushHint.class).stream().filter(f -> f.deviceHandle() == e.getKey()).findFirst()
                    .map(FlushHint::hintAddresses).orElse(List.of());
            Dimm d = new Dimm("nmem" + id, id, e.getKey(), first.physicalId(), unique, flags, hints);
            id++;
            if (d.errorMessage() != null) LOG.error("NFIT: {}", d.errorMessage());
            out.add(d);
            dimmByHandle.put(e.getKey(), d);
        }
        return List.copyOf(out);
    }

    private int offsetOf(Subtable subtable) {
        return nfit.entries().stream().filter(e -> e.subtable() == subtable).findFirst().orElseThrow().offset();
    }

    /**
     * Whether a map makes its NVDIMM exist: Linux's __nfit_mem_init makes NVDIMMs from the maps of
     * persistent-memory and control-region ranges and from maps of no range, not from those of
     * block-data-window or virtual ranges. Maps of volatile ranges count too: dmstack's volatile
     * NVDIMMs (Linux would find no NVDIMM for such a map and fail the region).
     */
    private boolean makesDimm(MemoryMap m) {
        if (m.rangeIndex() == 0) return true;
        RangeType kind = nfit.spaRange(m.rangeIndex()).map(SpaRange::rangeType).orElse(RangeType.UNKNOWN);
        return kind == RangeType.PERSISTENT_MEMORY || kind == RangeType.CONTROL_REGION || kind == RangeType.VOLATILE_MEMORY;
    }

    /** Linux's nfit_mem id: vendor, [manufacturing location and date,] serial, as big-endian hex. */
    static String uniqueId(ControlRegion dcr) {
        int vendor = Short.reverseBytes((short) dcr.vendorId()) & 0xFFFF;
        long serial = Integer.reverseBytes((int) dcr.serialNumber()) & 0xFFFF_FFFFL;
        if ((dcr.validFields() & ControlRegion.VALID_MANUFACTURING) != 0) {
            int date = Short.reverseBytes((short) dcr.manufacturingDate()) & 0xFFFF;
            return String.format("%04x-%02x-%04x-%08x", vendor, dcr.manufacturingLocation(), date, serial);
        }
        return String.format("%04x-%08x", vendor, serial);
    }

    private void checkBackings() {
        if (backings.size() != regionRanges.size()) {
            throw new NfitException(String.format("the table has %d region%s (persistent or volatile SPA ranges) but %d "
                    + "backing%s %s given; give one backing per region, in region order", regionRanges.size(),
                    regionRanges.size() == 1 ? "" : "s", backings.size(), backings.size() == 1 ? "" : "s",
                    backings.size() == 1 ? "was" : "were"));
        }
        for (int i = 0; i < regionRanges.size(); i++) {
            SpaRange s = regionRanges.get(i);
            if (s.rangeType().isPersistent() && backings.get(i).isAnonymous()) {
                throw new NfitException(String.format("region%d (SPA range index %d, %s, %s) needs a "
                        + "backing file: anonymous memory would not persist", firstRegionId + i, s.rangeIndex(),
                        s.rangeType().description().toLowerCase(Locale.ROOT), Units.humanSize(s.length())));
            }
        }
    }

    private List<Region> buildRegions() {
        Region.PersistenceDomain domain = persistenceDomain();
        List<Region> out = new ArrayList<>();
        for (int i = 0; i < regionRanges.size(); i++) {
            SpaRange s = regionRanges.get(i);
            int offset = offsetOf(s);
            if (s.length() % Units.PAGE_SIZE != 0 || s.address() % Units.PAGE_SIZE != 0) {
                throw new NfitException(offset, String.format("SPA range index %d (0x%x, length 0x%x) is not "
                        + "aligned to the %d-byte page; a region must be whole pages", s.rangeIndex(), s.address(),
                        s.length(), Units.PAGE_SIZE));
            }
            List<MemoryMap> maps = nfit.memoryMaps().stream().filter(m -> m.rangeIndex() == s.rangeIndex()).toList();
            List<MemoryMap> byOffset = maps.stream().sorted(Comparator.comparingLong(MemoryMap::regionOffset)).toList();
            List<Region.Mapping> mappings = new ArrayList<>();
            LinkedHashSet<Long> hints = new LinkedHashSet<>();
            boolean unarmed = false;
            for (MemoryMap m : maps) {
                Dimm d = dimmByHandle.get(m.deviceHandle());
                if (d == null) {
                    // acpi_nfit_init_mapping: the region cannot be registered, and the bus fails with it (-ENODEV).
                    throw new NfitException(offset, String.format("spa%d dimm: %#x not found: no persistent-memory, "
                            + "control-region or unmapped memory device map makes that NVDIMM", s.rangeIndex(), m.deviceHandle()));
                }
                mappings.add(new Region.Mapping(d.name(), (int) m.deviceHandle(), m.address(), m.regionSize(),
                        byOffset.indexOf(m)));
                hints.addAll(d.flushHints());
                // nd_region_create: a region with an NDD_UNARMED NVDIMM is made read-only.
                unarmed |= d.unarmed();
            }
            int ways = Math.max(1, maps.size());
            for (MemoryMap m : maps) {
                if (m.interleaveWays() != maps.size()) {
                    LOG.warn("NFIT: SPA range index {}: memory device map of handle 0x{} says {} interleave ways, "
                            + "but {} NVDIMMs map the range", s.rangeIndex(), Long.toHexString(m.deviceHandle()),
                            m.interleaveWays(), maps.size());
                    break;
                }
            }
            // Linux makes virtual disks and CDs pmem regions, whose write cache follows the persistence domain.
            Region.Type type = s.rangeType() == RangeType.VOLATILE_MEMORY ? Region.Type.VOLATILE : Region.Type.PERSISTENT;
            long iset = type == Region.Type.PERSISTENT && !maps.isEmpty() ? interleaveSetCookie(byOffset) : 0;
            int id = firstRegionId + i;
            String name = "region" + id;
            out.add(new Region(name, id, type, s.address(), s.length(), backings.get(i), domain, ways,
                    mappings, List.copyOf(hints), iset, poisonIn(s), readOnlyWritten.getOrDefault(name, unarmed)));
        }
        return List.copyOf(out);
    }

    private List<Region.PoisonRange> poisonIn(SpaRange s) {
        List<Region.PoisonRange> out = new ArrayList<>();
        for (SpaPoison p : poison) {
            long start = Math.max(p.address(), s.address());
            long end = Math.min(p.address() + p.length(), s.end());
            if (start < end) out.add(new Region.PoisonRange(start - s.address(), end - start));
        }
        out.sort(Comparator.comparingLong(Region.PoisonRange::offset));
        return out;
    }

    /**
     * Linux's v1.1 interleave-set cookie (acpi_nfit_init_interleave_set, cookie1): a Fletcher-64
     * over {region offset (u64), serial number (u32), pad (u32)} per NVDIMM, sorted by region
     * offset, read as little-endian 32-bit words.
     */
    private long interleaveSetCookie(List<MemoryMap> byOffset) {
        long lo = 0;
        long hi = 0;
        for (MemoryMap m : byOffset) {
            long serial = nfit.controlRegion(m.controlRegionIndex()).map(ControlRegion::serialNumber).orElse(0L);
            long[] words = {m.regionOffset() & 0xFFFF_FFFFL, m.regionOffset() >>> 32, serial, 0};
            for (long w : words) {
                lo = (lo + w) & 0xFFFF_FFFFL;
                hi += lo;
            }
        }
        return hi << 32 | lo;
    }

    /** Warns about scrub results that fall in no region (they are dropped). */
    private void warnStrayPoison() {
        for (SpaPoison p : poison) {
            boolean inside = regionRanges.stream().anyMatch(s -> p.address() < s.end() && p.address() + p.length() > s.address());
            if (!inside) {
                LOG.warn("NFIT: poisoned range 0x{}+0x{} is in no region; skipped", Long.toHexString(p.address()),
                        Long.toHexString(p.length()));
            }
        }
    }
}
