/**
 * The NBD export: block devices as backends of the NBD server ({@link
 * org.dmstack.nbd.server.NbdServer}), so qemu-img, nbdinfo, nbdcopy and the Linux nbd client
 * can use them. {@link org.dmstack.nbd.BlockBackends} serves a registry's devices, {@link
 * org.dmstack.nbd.BlockBackend} one device.
 */
@Export
@Version("0.2.0")
package org.dmstack.nbd;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
