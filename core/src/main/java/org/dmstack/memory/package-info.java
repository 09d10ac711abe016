/**
 * Memory as the hardware sees it: poison (media errors) and machine-check-safe copies.
 */
@Export
@Version("0.2.0")
package org.dmstack.memory;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
