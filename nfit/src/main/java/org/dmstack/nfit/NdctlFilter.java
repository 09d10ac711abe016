package org.dmstack.nfit;

import java.util.List;
import org.dmstack.nvdimm.Region;

/**
 * ndctl's util/filter.c for {@code ndctl list}: which buses, NVDIMMs, regions and namespaces the
 * -b, -d, -r, -n, -t and -m filters let through. An identifier is "all", the device name, or its
 * number ("region0" or "0"; "namespace0.0" or "0.0"; a bus also by its provider), several
 * separated by spaces. Each object must also be related to what the other filters name: a
 * region to a named NVDIMM (a mapping) and namespace, an NVDIMM to a named region and namespace,
 * a bus to all of them.
 */
final class NdctlFilter {
    private final NdctlJson.Options o;
    private final NamespaceInfo namespaces;

    NdctlFilter(NdctlJson.Options o, NamespaceInfo namespaces) {
        this.o = o;
        this.namespaces = namespaces;
    }

    /**
     * The -t and -m values ndctl takes, refused in its words otherwise.
     *
     * @throws IllegalArgumentException "unknown type ..." or "invalid mode: ..."
     */
    static void check(NdctlJson.Options o) {
        if (o.type() != null && !o.type().equals("pmem") && !o.type().equals("blk")) {
            throw new IllegalArgumentException("unknown type \"" + o.type() + "\" must be \"pmem\" or \"blk\"");
        }
        if (o.mode() != null && mode(o.mode()) == null) throw new IllegalArgumentException("invalid mode: '" + o.mode() + "'");
    }

    /** util_bus_filter and util_bus_filter_by_dimm, _by_region, _by_namespace. */
    boolean bus(String dev, int id, List<Region> regions, List<NfitPlatform.Dimm> dimms) {
        if (o.bus() != null && !matches(o.bus(), dev, id) && !List.of(o.bus().trim().split(" +")).contains("ACPI.NFIT")) {
            return false;
        }
        if (o.dimm() != null && dimms.stream().noneMatch(d -> matches(o.dimm(), d.name(), d.id()))) return false;
        if (o.region() != null && regions.stream().noneMatch(r -> matches(o.region(), r.name(), r.id()))) return false;
        return o.namespace() == null || regions.stream().anyMatch(this::hasNamedNamespace);
    }

    /** util_dimm_filter, _by_region (a mapping in a named region), _by_namespace. */
    boolean dimm(NfitPlatform.Dimm d, List<Region> regions) {
        if (!matches(o.dimm(), d.name(), d.id())) return false;
        if (o.region() != null && regions.stream().noneMatch(r -> matches(o.region(), r.name(), r.id()) && maps(r, d))) {
            return false;
        }
        return o.namespace() == null || regions.stream().anyMatch(r -> maps(r, d) && hasNamedNamespace(r));
    }

    /** util_region_filter, _by_dimm, _by_namespace, and the region type (every region is "pmem"). */
    boolean region(Region r, List<NfitPlatform.Dimm> dimms) {
        if (!matches(o.region(), r.name(), r.id())) return false;
        if (o.dimm() != null && dimms.stream().noneMatch(d -> matches(o.dimm(), d.name(), d.id()) && maps(r, d))) return false;
        if (o.namespace() != null && !hasNamedNamespace(r)) return false;
        return o.type() == null || o.type().equals("pmem");
    }

    /** util_namespace_filter and the -m mode. */
    boolean namespace(NamespaceInfo.Namespace ns) {
        return (o.mode() == null || mode(o.mode()).equals(ns.mode())) && named(ns);
    }

    private boolean named(NamespaceInfo.Namespace ns) {
        if (o.namespace() == null) return true;
        for (String name : o.namespace().trim().split(" +")) {
            if (name.equals("all") || name.equals(ns.dev()) || name.equals(ns.dev().replaceFirst("^namespace", ""))) return true;
        }
        return false;
    }

    private boolean hasNamedNamespace(Region r) {
        return namespaces.namespaces(r).stream().anyMatch(this::named);
    }

    private static boolean maps(Region r, NfitPlatform.Dimm d) {
        return r.mappings().stream().anyMatch(m -> m.dimm().equals(d.name()));
    }

    /** "all", the device name, or its number as strtoul reads it (0x for hex, 0 for octal). */
    private static boolean matches(String ident, String dev, int id) {
        if (ident == null) return true;
        for (String name : ident.trim().split(" +")) {
            if (name.equals("all") || name.equals(dev)) return true;
            try {
                if (Long.decode(name) == id) return true;
            } catch (NumberFormatException notANumber) {
                // a name that is no device's
            }
        }
        return false;
    }

    /** util_nsmode: the mode a -m name stands for, as ndctl list prints it, or null. */
    private static String mode(String name) {
        return switch (name) {
            case "memory", "fsdax" -> "fsdax";
            case "sector", "safe" -> "sector";
            case "dax", "devdax" -> "devdax";
            case "raw" -> "raw";
            default -> null;
        };
    }
}
