/**
 * Block core: block devices (like Linux's gendisk), bios, queue limits and flags, sysfs-like
 * attributes, bad blocks and the device registry.
 */
@Export
@Version("0.9.0")
package org.dmstack.block;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
