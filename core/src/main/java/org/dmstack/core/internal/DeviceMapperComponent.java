package org.dmstack.core.internal;

import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.TargetType;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * device-mapper as a service: follows the TargetType services of target bundles as they come and
 * go (tables using a departed type hold their I/O until it returns), configured by PID
 * {@code org.dmstack.dm}.
 */
@Component(service = DeviceMapper.class, configurationPid = "org.dmstack.dm", immediate = true)
@Designate(ocd = DeviceMapperComponent.Config.class)
public final class DeviceMapperComponent extends DeviceMapper {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceMapperComponent.class);

    @ObjectClassDefinition(name = "dmstack device-mapper")
    public @interface Config {
        @AttributeDefinition(description = "How long I/O waits for a device or target type that went away before failing with IOERR (ms)")
        // "__" is "_" in the property name (DS maps a single "_" to "."): the property is hold_timeout_ms.
        long hold__timeout__ms() default DeviceMapper.DEFAULT_HOLD_MILLIS;
    }

    @Activate
    public DeviceMapperComponent(@Reference BlockDeviceRegistry registry, Config config) {
        super(registry);
        configure(config);
    }

    @Modified
    void modified(Config config) {
        configure(config);
    }

    /** A value that is not a number is refused in one line; the hold time stays what it was. */
    private void configure(Config config) {
        try {
            setHoldTimeout(config.hold__timeout__ms());
        } catch (RuntimeException e) {
            LOG.error("device-mapper: hold_timeout_ms must be a number of milliseconds (configuration org.dmstack.dm rejected, the hold time stays {} ms)",
                    holdTimeout());
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addTargetType(TargetType type) {
        targetTypes().register(type);
    }

    void removeTargetType(TargetType type) {
        targetTypes().unregister(type);
    }

    @Deactivate
    void deactivate() {
        close();
    }
}
