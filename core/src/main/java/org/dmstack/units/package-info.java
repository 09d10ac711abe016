/**
 * The floor under everything else in core: Linux's units (sectors, pages, cache lines) and sizes
 * as people type and read them. It imports nothing of dmstack's.
 */
@Export
@Version("0.1.0")
package org.dmstack.units;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
