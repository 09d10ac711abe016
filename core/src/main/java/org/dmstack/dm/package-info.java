/**
 * device-mapper: tables, target types, mapped devices and their lifecycle.
 */
@Export
@Version("0.4.0")
package org.dmstack.dm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
