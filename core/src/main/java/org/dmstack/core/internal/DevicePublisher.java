package org.dmstack.core.internal;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dax.DaxDevice;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Publishes every device in the registry as a BlockDevice service, and the DAX device of each
 * DAX-capable one as a DaxDevice service, with properties {@code device.name} and
 * {@code device.devt}, so other bundles can follow devices with ordinary service tracking.
 */
@Component(immediate = true, service = {})
public final class DevicePublisher implements BlockDeviceRegistry.Listener {
    private record Published(ServiceRegistration<BlockDevice> device, ServiceRegistration<DaxDevice> dax) {}

    private final BlockDeviceRegistry registry;
    private final BundleContext context;
    private final Map<BlockDevice, Published> published = new ConcurrentHashMap<>();

    @Activate
    public DevicePublisher(@Reference BlockDeviceRegistry registry, BundleContext context) {
        this.registry = registry;
        this.context = context;
        registry.addListener(this);
        registry.devices().forEach(this::added);
    }

    @Override
    public void added(BlockDevice device) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("device.name", device.name());
        props.put("device.devt", device.devt().toString());
        DaxDevice dax = device.dax();
        props.put("device.dax", dax != null);
        ServiceRegistration<BlockDevice> reg = context.registerService(BlockDevice.class, device, props);
        ServiceRegistration<DaxDevice> daxReg = dax == null ? null : context.registerService(DaxDevice.class, dax, props);
        Published old = published.put(device, new Published(reg, daxReg));
        if (old != null) unregister(old);
    }

    @Override
    public void removed(BlockDevice device) {
        Published p = published.remove(device);
        if (p != null) unregister(p);
    }

    private static void unregister(Published p) {
        try {
            p.device().unregister();
            if (p.dax() != null) p.dax().unregister();
        } catch (IllegalStateException alreadyGone) {
            // The framework is stopping this bundle; its services are going anyway.
        }
    }

    @Deactivate
    void deactivate() {
        registry.removeListener(this);
        published.values().forEach(DevicePublisher::unregister);
        published.clear();
    }
}
