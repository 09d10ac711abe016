package org.dmstack.pmem.internal;

import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.memory.MappingPool;
import org.dmstack.nvdimm.MediaErrorListener;
import org.dmstack.nvdimm.Namespaces;
import org.dmstack.nvdimm.Region;
import org.dmstack.pmem.Pmem;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pmem driver as a Declarative Services component and a {@link Pmem} service (and
 * {@link Namespaces}, which ndctl uses, so the shell needs no package of this bundle): one device per
 * {@link Region} service (as the nfit bundle publishes them), following them as they come and go.
 * Devices from configuration are made by {@link PmemNamespaceComponent} through this service.
 * File mappings go to core's {@link MappingPool} when devices go, so that the driver of a bundle
 * update takes them back instead of mapping the files again while I/O above is held.
 */
@Component(service = {Pmem.class, Namespaces.class, MediaErrorListener.class}, immediate = true)
public class PmemComponent extends Pmem {
    private static final Logger LOG = LoggerFactory.getLogger(PmemComponent.class);

    @Activate
    public PmemComponent(@Reference BlockDeviceRegistry registry) {
        super(registry, MappingPool.shared());
    }

    /** Called when a region service appears: makes its device. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    public void bindRegion(Region region) {
        try {
            addRegion(region);
        } catch (RuntimeException e) {
            LOG.error("{} ({} has no pmem device)", e.getMessage(), region.name());
        }
    }

    /** Called when a region service goes away: removes its device. */
    public void unbindRegion(Region region) {
        removeRegion(region);
    }

    /**
     * Called when the component stops (bundle stop or update): removes every device; files keep
     * their contents, and their mappings wait in the pool for the next driver.
     */
    @Deactivate
    public void deactivate() {
        close();
    }
}
