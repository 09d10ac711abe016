package org.dmstack.nfit;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dmstack.block.Attributes;
import org.dmstack.nvdimm.Region;

/**
 * The NVDIMM bus's devices below {@code /sys/bus/nd/devices}, with the attributes Linux 6.1 gives
 * them and in its formats:
 *
 * <ul>
 *   <li>{@code regionN} (drivers/nvdimm/region_devs.c): size, mappings, mappingN
 *       ("nmem0,DPA,LENGTH"), persistence_domain (empty without platform capabilities), set_cookie
 *       (%#llx, persistent regions with NVDIMMs), and read_only: "1" when an NVDIMM of the region
 *       is not armed; writing it (kstrtobool) sets it and makes the pmem disk over the region
 *       follow ({@link NfitPlatform#setReadOnly}).
 *   <li>{@code nmemN} (drivers/acpi/nfit/core.c): nfit/flags (flags_show: "not_armed smart_event "),
 *       nfit/handle and nfit/phys_id (%#x), nfit/id.
 * </ul>
 */
public final class NdBusSysfs {
    private NdBusSysfs() {}

    /** The devices of the platforms, by name, sorted as {@code ls} sorts them. */
    public static Map<String, Attributes> devices(List<NfitPlatform> platforms) {
        Map<String, Attributes> out = new TreeMap<>();
        for (NfitPlatform p : platforms) {
            for (NfitPlatform.Dimm d : p.dimms()) out.put(d.name(), dimm(d));
            for (Region r : p.regions()) out.put(r.name(), region(p, r.name()));
        }
        return out;
    }

    private static Attributes region(NfitPlatform platform, String name) {
        Attributes a = new Attributes();
        Region r = platform.region(name).orElseThrow();
        a.define("size", () -> Long.toString(r.size()));
        a.define("mappings", () -> Integer.toString(r.mappings().size()));
        for (int i = 0; i < r.mappings().size(); i++) {
            Region.Mapping m = r.mappings().get(i);
            a.define("mapping" + i, () -> m.dimm() + "," + Long.toUnsignedString(m.offset()) + "," + Long.toUnsignedString(m.length()));
        }
        a.define("persistence_domain", () -> r.persistenceDomain().sysfsName());
        if (r.isetId() != 0) a.define("set_cookie", () -> hex(r.isetId()));
        // Read when asked: the state changes when it is written.
        a.define("read_only", () -> platform.region(name).orElseThrow().readOnly() ? "1" : "0",
                value -> platform.setReadOnly(name, kstrtobool(value)));
        return a;
    }

    private static Attributes dimm(NfitPlatform.Dimm d) {
        Attributes a = new Attributes();
        a.define("nfit/flags", d::nfitFlags);
        a.define("nfit/handle", () -> hex(d.handle()));
        a.define("nfit/phys_id", () -> hex(d.physicalId()));
        if (d.uniqueId() != null) a.define("nfit/id", d::uniqueId);
        return a;
    }

    /** C's %#x: "0" for zero, "0x..." otherwise. */
    private static String hex(long value) {
        return value == 0 ? "0" : "0x" + Long.toHexString(value);
    }

    /** kstrtobool (lib/kstrtox.c, 6.1): the first character decides, "on"/"off" the second. */
    static boolean kstrtobool(String value) {
        String v = value.strip();
        if (!v.isEmpty()) {
            switch (v.charAt(0)) {
                case 'y', 'Y', 't', 'T', '1' -> { return true; }
                case 'n', 'N', 'f', 'F', '0' -> { return false; }
                case 'o', 'O' -> {
                    if (v.length() > 1 && (v.charAt(1) == 'n' || v.charAt(1) == 'N')) return true;
                    if (v.length() > 1 && (v.charAt(1) == 'f' || v.charAt(1) == 'F')) return false;
                }
                default -> { }
            }
        }
        throw new IllegalArgumentException("read_only: Invalid argument: '" + value + "' (expected 1 or 0)");
    }
}
