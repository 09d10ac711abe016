package org.dmstack.metrics;

import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one MBean per device of a registry in an MBean server, named
 * {@code org.dmstack:type=BlockDevice,name=NAME}: registered when a device is added, unregistered
 * when it is removed or when this is closed. A device with a DAX device when it arrives is a
 * {@link DaxBlockDeviceMXBean}, any other a {@link BlockDeviceMXBean}.
 *
 * <pre>{@code
 * try (DeviceMBeans beans = DeviceMBeans.register(registry)) {   // the platform MBean server
 *     ...                                                        // jconsole sees org.dmstack
 * }
 * }</pre>
 *
 * <p>In the OSGi runtime, core does this for the registry service.
 */
public final class DeviceMBeans implements BlockDeviceRegistry.Listener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceMBeans.class);

    private final BlockDeviceRegistry registry;
    private final MBeanServer server;
    private final Map<BlockDevice, ObjectName> registered = new ConcurrentHashMap<>();

    private DeviceMBeans(BlockDeviceRegistry registry, MBeanServer server) {
        this.registry = registry;
        this.server = server;
    }

    /** MBeans for the registry's devices, now and as they come and go, in the platform MBean server. */
    public static DeviceMBeans register(BlockDeviceRegistry registry) {
        return register(registry, ManagementFactory.getPlatformMBeanServer());
    }

    public static DeviceMBeans register(BlockDeviceRegistry registry, MBeanServer server) {
        DeviceMBeans beans = new DeviceMBeans(registry, server);
        registry.addListener(beans);
        registry.devices().forEach(beans::added);
        return beans;
    }

    /** The name of a device's MBean. */
    public static ObjectName objectName(String deviceName) {
        try {
            return new ObjectName("org.dmstack:type=BlockDevice,name=" + (isPlain(deviceName) ? deviceName : ObjectName.quote(deviceName)));
        } catch (JMException e) {
            throw new IllegalArgumentException("device name " + deviceName + ": " + e.getMessage(), e);
        }
    }

    /** Kernel names (ram0, dm-0) need no quoting; quote only what ObjectName would refuse. */
    private static boolean isPlain(String name) {
        return name.chars().noneMatch(c -> ",=:\"*?\n".indexOf(c) >= 0);
    }

    @Override
    public void added(BlockDevice device) {
        ObjectName name = objectName(device.name());
        DeviceMetrics metrics = new DeviceMetrics(device);
        try {
            StandardMBean bean = device.dax() != null
                    ? new StandardMBean(metrics, DaxBlockDeviceMXBean.class, true)
                    : new StandardMBean(metrics, BlockDeviceMXBean.class, true);
            server.registerMBean(bean, name);
            registered.put(device, name);
        } catch (InstanceAlreadyExistsException e) {
            // Another registry in this JVM has a device of this name (embedded programs, tests).
            LOG.warn("{}: an MBean of this name exists already; {} has none", name, device);
        } catch (JMException e) {
            LOG.warn("{}: cannot register its MBean: {}", device, e.toString());
        }
    }

    @Override
    public void removed(BlockDevice device) {
        ObjectName name = registered.remove(device);
        if (name != null) unregister(name);
    }

    private void unregister(ObjectName name) {
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException gone) {
            // Someone else unregistered it: nothing left to do.
        } catch (JMException e) {
            LOG.warn("{}: cannot unregister: {}", name, e.toString());
        }
    }

    /** Stops following the registry and unregisters every MBean it made. */
    @Override
    public void close() {
        registry.removeListener(this);
        for (BlockDevice d : registered.keySet()) removed(d);
    }
}
