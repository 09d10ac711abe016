package org.dmstack.pmem.internal;

import java.util.Map;
import org.dmstack.pmem.Pmem;
import org.dmstack.pmem.PmemConfig;
import org.dmstack.pmem.PmemDevice;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One pmem device per factory configuration of {@code org.dmstack.pmem} (path, size, create,
 * volatile, name). A changed configuration makes the device again; a deleted one removes it
 * (the file keeps its contents).
 */
@Component(configurationPid = PmemNamespaceComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = PmemNamespaceComponent.Config.class, factory = true)
public class PmemNamespaceComponent {
    public static final String PID = "org.dmstack.pmem";


    @ObjectClassDefinition(name = "dmstack pmem device", description = "A pmem device over a file or anonymous memory (legacy memmap pmem)")
    public @interface Config {
        @AttributeDefinition(description = "Backing file (absent for anonymous memory, volatile only)", required = false)
        String path();

        @AttributeDefinition(description = "Size in bytes, with K/M/G/T suffixes; a multiple of 4K")
        String size();

        @AttributeDefinition(description = "Create the file, or grow it to the size, when needed")
        boolean create() default false;

        @AttributeDefinition(name = "volatile", description = "A volatile region: no DAX write cache")
        boolean volatile$() default false;

        @AttributeDefinition(description = "Device name (default: the lowest free pmemN)", required = false)
        String name();
    }

    private final Pmem pmem;
    private volatile PmemDevice device;

    @Activate
    public PmemNamespaceComponent(@Reference Pmem pmem) {
        this.pmem = pmem;
    }

    /**
     * Called with the configuration when the component starts: makes the device. A configuration
     * it cannot use is refused by throwing (nothing made, no file touched; the message says what to
     * fix): Declarative Services records the failure and the config folder reports it.
     */
    @Activate
    public void activate(Map<String, Object> properties) {
        device = pmem.create(PmemConfig.from(properties));
    }

    /** Called when the configuration is deleted or the bundle stops: removes the device. */
    @Deactivate
    public void deactivate() {
        PmemDevice d = device;
        device = null;
        if (d != null) pmem.remove(d.name());
    }

    /** The device, or null when the configuration was rejected. */
    public PmemDevice device() {
        return device;
    }
}
