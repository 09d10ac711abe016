package org.dmstack.brd.internal;

import java.util.List;
import java.util.Map;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The brd driver as a Declarative Services component, configured by the PID
 * {@code org.dmstack.brd} (rd_nr, rd_size in KiB). No configuration, no RAM disks.
 *
 * <p>Stopping or updating the bundle removes the devices but keeps their memory (it lives in
 * core's page pool); the new component finds it again. Deleting the configuration frees it.
 */
@Component(configurationPid = BrdComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = BrdComponent.Config.class)
public class BrdComponent {
    public static final String PID = "org.dmstack.brd";

    /** ComponentConstants.DEACTIVATION_REASON_CONFIGURATION_DELETED. */
    static final int CONFIGURATION_DELETED = 4;

    private static final Logger LOG = LoggerFactory.getLogger(BrdComponent.class);

    @ObjectClassDefinition(name = "dmstack brd RAM disks", description = "Linux's brd module parameters")
    public @interface Config {
        @AttributeDefinition(name = "rd_nr", description = "Number of RAM disks: ram0 ... ram<rd_nr - 1>")
        int rd__nr() default BrdConfig.DEFAULT_RD_NR;

        @AttributeDefinition(name = "rd_size", description = "Size of each RAM disk in KiB (or with a K/M/G/T suffix)")
        String rd__size() default "4096";
    }

    private final BlockDeviceRegistry registry;
    private volatile Brd brd;

    @Activate
    public BrdComponent(@Reference BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    /**
     * Called when the component starts with its configuration: makes the devices. A configuration
     * it cannot use is refused by throwing: nothing is made, Declarative Services records the
     * failure (the config folder reports it), and a corrected configuration starts it again.
     */
    @Activate
    public void activate(Map<String, Object> properties) {
        brd = new Brd(registry, BrdConfig.from(properties));
    }

    /** Called when the configuration changes: adds, removes or resizes devices. */
    @Modified
    public void modified(Map<String, Object> properties) {
        BrdConfig config;
        try {
            config = BrdConfig.from(properties);
        } catch (IllegalArgumentException e) {
            LOG.error("{} (configuration {} rejected, nothing changed)", e.getMessage(), PID);
            return;
        }
        Brd current = brd;
        if (current == null) {
            brd = new Brd(registry, config);
            return;
        }
        try {
            current.configure(config);
        } catch (IllegalStateException e) {
            LOG.error("{} (configuration {} rejected, nothing changed)", e.getMessage(), PID);
        }
    }

    /**
     * Called when the component stops: the devices go; their memory is freed only when the
     * configuration was deleted.
     */
    @Deactivate
    public void deactivate(int reason) {
        Brd current = brd;
        brd = null;
        if (current == null) return;
        if (reason == CONFIGURATION_DELETED) current.destroy();
        else current.close();
    }

    /** The running driver, or null when the configuration was rejected. */
    public Brd driver() {
        return brd;
    }

    /** The devices, one status line each. */
    public List<String> status() {
        Brd current = brd;
        return current == null ? List.of() : current.status();
    }
}
