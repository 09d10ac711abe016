/**
 * libnvdimm's role: persistent- and volatile-memory regions, described by a platform (NFIT) and
 * turned into pmem devices by the pmem driver.
 */
@Export
@Version("0.3.0")
package org.dmstack.nvdimm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
