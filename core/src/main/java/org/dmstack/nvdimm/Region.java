package org.dmstack.nvdimm;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A memory region, as libnvdimm's nd_region: a System Physical Address range of persistent or
 * volatile memory, the NVDIMMs it is made of, and what the platform promises about it. The nfit
 * bundle publishes one per SPA range (as an OSGi service, or handed over directly when embedded);
 * the pmem driver makes one pmem device over each.
 *
 * @param name "region0", "region1", ...
 * @param id the region number (N in regionN)
 * @param type persistent or volatile memory
 * @param spaStart the system physical address where the range starts
 * @param size bytes; a multiple of the page size
 * @param backing where the bytes live: a file, or anonymous memory (volatile regions)
 * @param persistenceDomain what survives power loss: "cpu_cache" (the platform flushes CPU
 *     caches), "memory_controller" (ADR) or nothing promised (no capabilities subtable)
 * @param interleaveWays how many DIMMs the range is interleaved across
 * @param mappings the DIMM extents that make up the range
 * @param flushHints flush hint addresses of the DIMMs (whether there are any decides FUA)
 * @param isetId the interleave-set cookie (Linux's sysfs nfit/set_cookie; 0 when none)
 * @param poison known media errors (address-range-scrub results), as byte ranges relative to
 *     the start of the region
 * @param readOnly libnvdimm's nd_region->ro (sysfs read_only): set when one of its NVDIMMs is not
 *     armed (NDD_UNARMED, so its writes may not persist), or by a write of read_only; the devices
 *     over the region are then read-only
 */
public record Region(
        String name,
        int id,
        Type type,
        long spaStart,
        long size,
        Backing backing,
        PersistenceDomain persistenceDomain,
        int interleaveWays,
        List<Mapping> mappings,
        List<Long> flushHints,
        long isetId,
        List<PoisonRange> poison,
        boolean readOnly) {

    public enum Type {
        /** ndctl "pmem": persistent memory. */
        PERSISTENT,
        /** Volatile memory fronted by pmem (the seed's "NFIT volatile ranges"). */
        VOLATILE
    }

    /** What the platform capabilities promise (Linux's ND_REGION_PERSIST_CACHE / _MEMCTRL flags). */
    public enum PersistenceDomain {
        CPU_CACHE("cpu_cache"),
        MEMORY_CONTROLLER("memory_controller"),
        /** No capabilities subtable: neither flag. */
        NONE("");

        private final String sysfsName;

        PersistenceDomain(String sysfsName) {
            this.sysfsName = sysfsName;
        }

        /** The region's sysfs persistence_domain (persistence_domain_show): empty for NONE. */
        public String sysfsName() {
            return sysfsName;
        }
    }

    /**
     * Where a region's bytes live.
     *
     * @param file the backing file, or null for anonymous memory
     * @param create whether the file may be created (or grown) to the region size
     */
    public record Backing(Path file, boolean create) {
        public static Backing anonymous() {
            return new Backing(null, false);
        }

        public static Backing file(Path file, boolean create) {
            return new Backing(Objects.requireNonNull(file, "file"), create);
        }

        public boolean isAnonymous() {
            return file == null;
        }
    }

    /** A DIMM's share of the region (ndctl's "mappings": dimm, offset, length, position). */
    public record Mapping(String dimm, int nfitHandle, long offset, long length, int position) {}

    /** A poisoned byte range, relative to the start of the region. */
    public record PoisonRange(long offset, long length) {}

    /** A region that is not read-only. */
    public Region(String name, int id, Type type, long spaStart, long size, Backing backing,
            PersistenceDomain persistenceDomain, int interleaveWays, List<Mapping> mappings, List<Long> flushHints,
            long isetId, List<PoisonRange> poison) {
        this(name, id, type, spaStart, size, backing, persistenceDomain, interleaveWays, mappings, flushHints, isetId,
                poison, false);
    }

    public Region {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(backing, "backing");
        Objects.requireNonNull(persistenceDomain, "persistenceDomain");
        mappings = List.copyOf(mappings);
        flushHints = List.copyOf(flushHints);
        poison = List.copyOf(poison);
    }

    /** The same region, read-only or not. */
    public Region withReadOnly(boolean ro) {
        return new Region(name, id, type, spaStart, size, backing, persistenceDomain, interleaveWays, mappings,
                flushHints, isetId, poison, ro);
    }

    /**
     * nvdimm_has_flush: whether the DIMMs of the region have flush hint addresses, so that a write
     * can be made durable on its own. The pmem driver advertises FUA only then; a region without
     * DIMMs cannot tell (Linux's -ENXIO) and counts as without.
     */
    public boolean hasFlush() {
        return !mappings.isEmpty() && !flushHints.isEmpty();
    }

    /**
     * Whether CPU caches must be written back for DAX writes to be durable: the DAX write cache
     * the pmem driver starts the device with (DESIGN.md, "Write cache and flush rules").
     */
    public boolean needsCacheWriteback() {
        return type == Type.PERSISTENT && persistenceDomain != PersistenceDomain.CPU_CACHE;
    }
}
