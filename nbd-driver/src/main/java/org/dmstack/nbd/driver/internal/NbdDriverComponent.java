package org.dmstack.nbd.driver.internal;

import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nbd.driver.NbdDriver;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The nbd driver as a Declarative Services component and an {@link NbdDriver} service; the
 * devices come from {@link NbdDeviceComponent}, one per configuration.
 */
@Component(service = NbdDriver.class, immediate = true)
public class NbdDriverComponent extends NbdDriver {
    @Activate
    public NbdDriverComponent(@Reference BlockDeviceRegistry registry) {
        super(registry);
    }

    /** Called when the bundle stops or is updated: every device leaves (dm holds I/O meanwhile). */
    @Deactivate
    public void deactivate() {
        close();
    }
}
