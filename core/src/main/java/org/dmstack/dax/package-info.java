/**
 * DAX: the dax_operations service interface, DAX devices and fs-dax style helpers.
 */
@Export
@Version("0.4.0")
package org.dmstack.dax;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
