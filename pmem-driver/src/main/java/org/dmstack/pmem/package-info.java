/**
 * The pmem driver: block and DAX devices pmem0, pmem1, ... over memory regions backed by mapped
 * files or anonymous memory. {@link org.dmstack.pmem.Pmem} is the driver (plain Java, and the
 * OSGi service of the same type); {@link org.dmstack.pmem.PmemDevice} is one device, with the
 * error injection API that {@code ndctl inject-error} stands for.
 */
@Export
@Version("0.1.0")
package org.dmstack.pmem;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
