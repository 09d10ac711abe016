package org.dmstack.nbd.internal;

import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nbd.BlockBackends;
import org.dmstack.nbd.server.Backends;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The block devices of the running system as the NBD server's {@link Backends} service. This
 * bundle is the only NBD one that knows core: updating core restarts it, and its service goes
 * and comes back, while the server (and its clients' connections) stays.
 *
 * <p>It serves nothing by itself: what is exported, and whether anything is, is the server's
 * configuration ({@code nbd.cfg}).
 */
@Component(immediate = true)
public final class NbdExportComponent {
    @Reference
    private BlockDeviceRegistry registry;

    private BlockBackends backends;
    private ServiceRegistration<Backends> registration;

    @Activate
    void activate(BundleContext context) {
        backends = new BlockBackends(registry);
        registration = context.registerService(Backends.class, backends, null);
    }

    /** Withdraws every backend first, so that requests arriving from now on are held by the server, not sent to devices going away. */
    @Deactivate
    void deactivate() {
        backends.close();
        registration.unregister();
    }
}
