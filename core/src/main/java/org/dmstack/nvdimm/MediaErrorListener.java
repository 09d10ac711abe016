package org.dmstack.nvdimm;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The hook through which injected and cleared media errors reach the device over a region, like
 * {@code ndctl inject-error} and {@code ndctl inject-error --uninject} (libnvdimm's badblocks
 * notification). The platform (nfit) calls it; the pmem driver implements it (as an OSGi service,
 * or handed to the platform when embedded) and poisons or clears the memory and the bad blocks of
 * the pmem device over {@code region}. It lives in core so that neither knows the other.
 *
 * <p>Called after the platform's own list of address-range-scrub results has changed, so a region
 * published later already carries the change in {@link Region#poison()}.
 */
@ConsumerType
public interface MediaErrorListener {
    /** {@code range} (relative to the region) now holds a media error. */
    void poisonInjected(Region region, Region.PoisonRange range);

    /** {@code range} (relative to the region) no longer holds a media error. */
    void poisonCleared(Region region, Region.PoisonRange range);

    /**
     * The region's read-only state was written (sysfs read_only): libnvdimm's
     * NVDIMM_REVALIDATE_REGION, after which the pmem driver catches its disk up with
     * {@link Region#readOnly()} (nvdimm_check_and_set_ro).
     */
    default void regionRevalidated(Region region) {}
}
