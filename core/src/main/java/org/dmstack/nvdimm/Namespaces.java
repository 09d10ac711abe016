package org.dmstack.nvdimm;

import java.util.List;
import org.dmstack.block.BadBlocks;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The raw namespaces a pmem driver made, as ndctl sees them: found by region or by block device,
 * with the media-error calls of {@code ndctl inject-error}. The pmem driver publishes itself as
 * this service, so that a tool needs only core's packages: updating the driver then rewires no
 * other bundle, and so restarts none with it while the devices are away.
 */
@ProviderType
public interface Namespaces {
    /** One raw namespace (a whole region) and its block device. */
    interface Namespace {
        /** The block device's name, pmemN. */
        String name();

        /** The region it covers, or null for one configured without a region (legacy memmap pmem). */
        Region region();

        /** The bad sector ranges, merged and sorted. */
        List<BadBlocks.Range> badBlocks();

        /**
         * Poisons {@code count} sectors from {@code sector} and lists them as bad blocks.
         *
         * @throws IllegalArgumentException when the range is outside the device
         */
        void injectError(long sector, long count);

        /** Clears the poison and the bad-block entries of those sectors (ndctl inject-error --uninject). */
        void clearError(long sector, long count);
    }

    /** The namespace on the region called {@code regionName}, or null. */
    Namespace deviceOf(String regionName);

    /** Every namespace, in the order they were made. */
    List<? extends Namespace> devices();
}
