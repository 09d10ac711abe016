package org.dmstack.core.internal;

import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.metrics.DeviceMBeans;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/** Every device of the registry as an MBean in the platform MBean server, while core runs. */
@Component(immediate = true, service = {})
public final class DeviceMBeansComponent {
    private final DeviceMBeans beans;

    @Activate
    public DeviceMBeansComponent(@Reference BlockDeviceRegistry registry) {
        beans = DeviceMBeans.register(registry);
    }

    @Deactivate
    void deactivate() {
        beans.close();
    }
}
