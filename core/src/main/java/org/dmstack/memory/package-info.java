/**
 * Memory as the hardware sees it: poison (media errors), machine-check-safe copies, RAM disks'
 * sparse page stores and huge-page chunks.
 */
@Export
@Version("0.3.0")
package org.dmstack.memory;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
