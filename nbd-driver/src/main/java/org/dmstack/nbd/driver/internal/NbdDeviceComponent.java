package org.dmstack.nbd.driver.internal;

import java.util.Map;
import org.dmstack.nbd.driver.NbdDevice;
import org.dmstack.nbd.driver.NbdDeviceConfig;
import org.dmstack.nbd.driver.NbdDriver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One imported export per factory configuration of {@code org.dmstack.nbd.driver}
 * ({@code nbd-NAME.cfg} in the config folder). A changed configuration makes the device again;
 * a deleted one removes it.
 */
@Component(configurationPid = NbdDeviceComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = NbdDeviceComponent.Config.class, factory = true)
public class NbdDeviceComponent {
    public static final String PID = "org.dmstack.nbd.driver";

    private static final Logger LOG = LoggerFactory.getLogger(NbdDeviceComponent.class);

    @ObjectClassDefinition(name = "dmstack NBD device", description = "A remote NBD export imported as a block device nbdN")
    public @interface Config {
        @AttributeDefinition(description = "nbd://host[:port]/export or nbd+unix:///export?socket=PATH")
        String uri();

        @AttributeDefinition(description = "Device name (default: the lowest free nbdN)", required = false)
        String name();

        @AttributeDefinition(description = "Connections to open when the server allows several (CAN_MULTI_CONN)")
        int connections() default NbdDeviceConfig.DEFAULT_CONNECTIONS;

        @AttributeDefinition(description = "How long I/O waits for a lost server before failing: seconds, or 500ms, 30s, 2m")
        String timeout() default "60";
    }

    private final NbdDriver driver;
    private volatile NbdDevice device;

    @Activate
    public NbdDeviceComponent(@Reference NbdDriver driver) {
        this.driver = driver;
    }

    /** Called with the configuration when the component starts: names the device and starts connecting. */
    @Activate
    public void activate(Map<String, Object> properties) {
        try {
            device = driver.add(NbdDeviceConfig.from(properties));
        } catch (RuntimeException e) {
            // Nothing was made; the message says what to fix.
            LOG.error("{} (configuration {} rejected)", e.getMessage(), properties.getOrDefault("service.pid", PID));
        }
    }

    /** Called when the configuration is deleted or changed, or the bundle stops: removes the device. */
    @Deactivate
    public void deactivate() {
        NbdDevice d = device;
        device = null;
        if (d != null) driver.remove(d.name());
    }

    /** The device, or null when the configuration was rejected. */
    public NbdDevice device() {
        return device;
    }
}
