package org.dmstack.nfit;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.dmstack.nvdimm.Region;

/**
 * What lives on a region, for {@code ndctl list -N}: the namespaces and their block devices.
 * The nfit bundle does not make devices; the pmem driver (or the shell, which sees both) fills
 * this in. {@link #NONE} says nothing is known.
 */
@FunctionalInterface
public interface NamespaceInfo {
    /** No namespaces known. */
    NamespaceInfo NONE = region -> List.of();

    /** The namespaces on {@code region}, in order; empty when none. */
    List<Namespace> namespaces(Region region);

    /**
     * A namespace as ndctl lists it.
     *
     * @param dev "namespace0.0"
     * @param mode "raw", "fsdax", "devdax" or "sector"
     * @param size bytes
     * @param blockdev the block device, "pmem0", or null when there is none
     */
    record Namespace(String dev, String mode, long size, String blockdev) {
        public Namespace {
            Objects.requireNonNull(dev, "dev");
            Objects.requireNonNull(mode, "mode");
        }

        /** The raw namespace covering a whole region, as the pmem driver makes it. */
        public static Namespace raw(Region region, String blockdev) {
            return new Namespace("namespace" + region.id() + ".0", "raw", region.size(), blockdev);
        }
    }

    /** Namespaces given per region name ("region0" to its namespaces). */
    static NamespaceInfo of(Map<String, List<Namespace>> byRegion) {
        Map<String, List<Namespace>> copy = Map.copyOf(byRegion);
        return region -> copy.getOrDefault(region.name(), List.of());
    }
}
