/**
 * The NBD export: {@link org.dmstack.nbd.server.NbdServer} serves block devices over the Network Block
 * Device protocol, so qemu-img, nbdinfo, nbdcopy and the Linux nbd client can use them.
 */
@Export
@Version("0.1.0")
package org.dmstack.nbd.server;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
