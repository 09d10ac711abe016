/**
 * The NBD protocol's numbers, in one place for the export (server) and the driver (client).
 */
@Export
@Version("0.2.0")
package org.dmstack.nbd.protocol;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
