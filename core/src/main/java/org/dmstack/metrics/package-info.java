/**
 * Metrics: every block device as a JMX MBean ({@code org.dmstack:type=BlockDevice,name=NAME}) with
 * its I/O counters, queue limits, write-cache flags and, on DAX devices, DAX call counters.
 */
@Export
@Version("0.1.0")
package org.dmstack.metrics;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
