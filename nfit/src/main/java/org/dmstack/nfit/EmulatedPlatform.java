package org.dmstack.nfit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.dmstack.units.Units;
import org.dmstack.nfit.Subtable.Capabilities;
import org.dmstack.nfit.Subtable.ControlRegion;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nvdimm.Region;

/**
 * An emulated NVDIMM platform, like QEMU's {@code -device nvdimm} with {@code nvdimm-persistence=}:
 * a list of NVDIMMs (kind, size, backing) and what survives power loss. {@link #toBinary()} writes
 * it as an NFIT binary with {@link NfitWriter}, and {@link #platform()} parses that binary back,
 * so emulated and real tables take the same path.
 *
 * <p>Layout, as QEMU 7.2's nvdimm_build_device_structure: per NVDIMM {@code slot}, in slot order,
 * one SPA range (index 2(slot+1), flags "add/online only" and "proximity domain valid", memory
 * attributes WB, plus NV for pmem), one memory-device map (device handle slot+1, physical id 0 as
 * QEMU leaves it, control region index 2(slot+1)+1, one interleave way) and one control region
 * (vendor 0x8086, device 1, revision 1, format interface code 0x301, serial 0x123456+slot); SPA
 * ranges follow each other from {@link #SPA_BASE}. No flush hint subtables (QEMU emits none, so
 * Linux's pmem advertises no FUA). The platform capabilities subtable is present only with a
 * persistence setting (highest capability 1; cpu: bits 0 and 1, mem-ctrl: bit 1). Volatile
 * NVDIMMs are dmstack's own addition: a volatile-memory range GUID, attributes WB only.
 *
 * @param poison address-range-scrub results, as system physical address ranges
 */
public record EmulatedPlatform(List<Nvdimm> nvdimms, Persistence persistence, List<NfitPlatform.SpaPoison> poison) {
    /** Where the first NVDIMM's SPA range starts (4 GiB, above a small guest's RAM). */
    public static final long SPA_BASE = 0x1_0000_0000L;

    /** What kind of memory an NVDIMM holds. */
    public enum Kind {
        PERSISTENT("pmem"),
        VOLATILE("volatile");

        private final String configName;

        Kind(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }
    }

    /** QEMU's nvdimm-persistence: what the platform flushes on power loss. */
    public enum Persistence {
        /** No platform capabilities subtable: persistence domain "none". */
        NONE(""),
        /** The memory controller is flushed (ADR): persistence domain "memory_controller". */
        MEM_CTRL("mem-ctrl"),
        /** CPU caches are flushed too (eADR): persistence domain "cpu_cache". */
        CPU("cpu");

        private final String configName;

        Persistence(String configName) {
            this.configName = configName;
        }

        public String configName() {
            return configName;
        }

        /** Parses QEMU's names: "mem-ctrl", "cpu", or "" / "none". */
        public static Persistence parse(String text) {
            String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
            return switch (t) {
                case "", "none" -> NONE;
                case "mem-ctrl", "memory_controller" -> MEM_CTRL;
                case "cpu", "cpu_cache" -> CPU;
                default -> throw new IllegalArgumentException("Invalid persistence '" + text
                        + "': expected mem-ctrl or cpu (QEMU's nvdimm-persistence), or none");
            };
        }
    }

    /**
     * One emulated NVDIMM.
     *
     * @param backing the backing file; null for anonymous memory (volatile only)
     */
    public record Nvdimm(Kind kind, long size, Path backing) {
        public Nvdimm {
            Objects.requireNonNull(kind, "kind");
            if (size <= 0 || size % Units.PAGE_SIZE != 0) {
                throw new IllegalArgumentException("NVDIMM size " + size + " must be a positive multiple of the "
                        + Units.PAGE_SIZE + "-byte page");
            }
            if (kind == Kind.PERSISTENT && backing == null) {
                throw new IllegalArgumentException("a persistent NVDIMM needs a backing file (pmem:SIZE:PATH)");
            }
        }

        /**
         * Parses {@code KIND:SIZE[:PATH]}: "pmem:4G:/var/lib/dmstack/pmem0", "volatile:1G"
         * (anonymous memory) or "volatile:1G:/path" (file-backed volatile memory).
         */
        public static Nvdimm parse(String spec) {
            String[] parts = spec.trim().split(":", 3);
            if (parts.length < 2) {
                throw new IllegalArgumentException("Invalid NVDIMM '" + spec + "': expected KIND:SIZE[:PATH], e.g. pmem:4G:/path/file");
            }
            Kind kind = switch (parts[0].trim().toLowerCase(Locale.ROOT)) {
                case "pmem", "persistent" -> Kind.PERSISTENT;
                case "volatile", "ram" -> Kind.VOLATILE;
                default -> throw new IllegalArgumentException("Invalid NVDIMM '" + spec + "': kind '" + parts[0]
                        + "' is not pmem or volatile");
            };
            long size = Units.parseSize(parts[1]);
            Path backing = parts.length == 3 && !parts[2].isBlank() ? Path.of(parts[2].trim()) : null;
            try {
                return new Nvdimm(kind, size, backing);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Invalid NVDIMM '" + spec + "': " + e.getMessage(), e);
            }
        }

        /** The text {@link #parse} reads back. */
        public String spec() {
            return kind.configName() + ":" + size + (backing == null ? "" : ":" + backing);
        }
    }

    public EmulatedPlatform {
        nvdimms = List.copyOf(nvdimms);
        Objects.requireNonNull(persistence, "persistence");
        poison = List.copyOf(poison);
        if (nvdimms.size() > 0x7FFE) throw new IllegalArgumentException("too many NVDIMMs: " + nvdimms.size());
    }

    /**
     * Reads the configuration form: {@code nvdimms} as {@link Nvdimm#parse}, {@code persistence}
     * as {@link Persistence#parse}, and {@code poison} entries either {@code ADDRESS:LENGTH} (a
     * system physical address range, as address-range scrub reports) or
     * {@code regionN:OFFSET:LENGTH} (relative to the Nth NVDIMM's range). Numbers may be hex
     * (0x...) or decimal; lengths and offsets may carry K/M/G suffixes.
     */
    public static EmulatedPlatform fromConfig(List<String> nvdimms, String persistence, List<String> poison) {
        List<Nvdimm> dimms = nvdimms.stream().filter(s -> !s.isBlank()).map(Nvdimm::parse).toList();
        List<NfitPlatform.SpaPoison> spa = new ArrayList<>();
        for (String p : poison) {
            if (p.isBlank()) continue;
            String[] parts = p.trim().split(":");
            try {
                if (parts.length == 3 && parts[0].startsWith("region")) {
                    int n = Integer.parseInt(parts[0].substring("region".length()));
                    if (n < 0 || n >= dimms.size()) throw new IllegalArgumentException("there is no " + parts[0]);
                    long offset = number(parts[1]);
                    long length = number(parts[2]);
                    if (offset + length > dimms.get(n).size()) {
                        throw new IllegalArgumentException("it runs past the end of " + parts[0]);
                    }
                    spa.add(new NfitPlatform.SpaPoison(spaStart(dimms, n) + offset, length));
                } else if (parts.length == 2) {
                    spa.add(NfitPlatform.SpaPoison.parse(p));
                } else {
                    throw new IllegalArgumentException("expected ADDRESS:LENGTH or regionN:OFFSET:LENGTH");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("Invalid poison '" + p + "': " + e.getMessage(), e);
            }
        }
        return new EmulatedPlatform(dimms, Persistence.parse(persistence), spa);
    }

    private static long number(String text) {
        return NfitPlatform.SpaPoison.number(text);
    }

    private static long spaStart(List<Nvdimm> dimms, int slot) {
        long a = SPA_BASE;
        for (int i = 0; i < slot; i++) a += dimms.get(i).size();
        return a;
    }

    /** Where NVDIMM {@code slot}'s SPA range starts. */
    public long spaStart(int slot) {
        return spaStart(nvdimms, slot);
    }

    /** The NFIT subtables describing this platform, in table order. */
    public List<Subtable> subtables() {
        List<Subtable> out = new ArrayList<>();
        for (int slot = 0; slot < nvdimms.size(); slot++) {
            Nvdimm d = nvdimms.get(slot);
            int handle = slot + 1;
            int spaIndex = (slot + 1) << 1;
            int dcrIndex = spaIndex + 1;
            boolean pmem = d.kind() == Kind.PERSISTENT;
            RangeType type = pmem ? RangeType.PERSISTENT_MEMORY : RangeType.VOLATILE_MEMORY;
            long attributes = pmem ? 0x8008 : 0x8; // EFI_MEMORY_WB, plus EFI_MEMORY_NV for pmem
            out.add(new SpaRange(spaIndex, SpaRange.FLAG_ADD_ONLINE_ONLY | SpaRange.FLAG_PROXIMITY_VALID, 0, 0, type.guid(),
                    spaStart(slot), d.size(), attributes, 0));
            out.add(new MemoryMap(handle, 0, 0, spaIndex, dcrIndex, d.size(), 0, 0, 0, 1, 0, 0));
            out.add(new ControlRegion(dcrIndex, 0x8086, 0x1, 0x1, 0, 0, 0, 0, 0, 0, 0, 0x123456L + slot, 0x301, 0,
                    0, 0, 0, 0, 0, 0, 0));
        }
        switch (persistence) {
            case NONE -> { }
            case MEM_CTRL -> out.add(new Capabilities(1, 0, Capabilities.MEMORY_FLUSH, 0));
            case CPU -> out.add(new Capabilities(1, 0, Capabilities.CACHE_FLUSH | Capabilities.MEMORY_FLUSH, 0));
        }
        return out;
    }

    /** The NFIT binary of this platform. */
    public byte[] toBinary() {
        return NfitWriter.write(NfitWriter.defaultHeader(), subtables());
    }

    /** The backings, one per NVDIMM (all NVDIMMs become regions), in order. */
    public List<Region.Backing> backings() {
        return nvdimms.stream()
                .map(d -> d.backing() == null ? Region.Backing.anonymous() : Region.Backing.file(d.backing(), true))
                .toList();
    }

    /** Writes the table, parses it back and builds the platform from the parsed table. */
    public NfitPlatform platform() {
        return platform(0, 0);
    }

    /** As {@link #platform()}, numbering regions and NVDIMMs from the given ids. */
    public NfitPlatform platform(int firstRegionId, int firstDimmId) {
        return new NfitPlatform(NfitParser.parse(toBinary()), backings(), poison, firstRegionId, firstDimmId);
    }

    /** The regions of this platform (through the NFIT binary, as {@link #platform()}). */
    public List<Region> regions() {
        return platform().regions();
    }

    /**
     * Describes a parsed table as an emulated platform: one NVDIMM per persistent or volatile SPA
     * range (in table order, with the given backing files), the persistence from the platform
     * capabilities. For a table this class wrote, that is the platform it was written from.
     *
     * @param backings one per region, null for anonymous memory
     */
    public static EmulatedPlatform describe(Nfit nfit, List<Path> backings, List<NfitPlatform.SpaPoison> poison) {
        List<SpaRange> ranges = nfit.regionRanges();
        if (backings.size() != ranges.size()) {
            throw new NfitException(ranges.size() + " regions in the table but " + backings.size() + " backings given");
        }
        List<Nvdimm> dimms = new ArrayList<>();
        for (int i = 0; i < ranges.size(); i++) {
            SpaRange s = ranges.get(i);
            Kind kind = s.rangeType() == RangeType.PERSISTENT_MEMORY ? Kind.PERSISTENT : Kind.VOLATILE;
            dimms.add(new Nvdimm(kind, s.length(), backings.get(i)));
        }
        long caps = nfit.capabilities().map(Capabilities::effective).orElse(0L);
        Persistence p = (caps & Capabilities.CACHE_FLUSH) != 0 ? Persistence.CPU
                : (caps & Capabilities.MEMORY_FLUSH) != 0 ? Persistence.MEM_CTRL : Persistence.NONE;
        return new EmulatedPlatform(dimms, p, poison);
    }
}
