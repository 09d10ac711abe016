/**
 * The nbd driver: remote NBD exports (nbdkit, qemu-nbd, another dmstack) as block devices
 * {@code nbdN}, for embedded use through {@link org.dmstack.nbd.driver.NbdDriver}; inside OSGi,
 * one device per factory configuration of {@code org.dmstack.nbd.driver} ({@code nbd-NAME.cfg}).
 */
@Export
@Version("0.1.0")
package org.dmstack.nbd.driver;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
