/**
 * The log-writes target (Linux's dm-log-writes.c) and replay-log (xfstests' src/log-writes):
 * record every write, flush, FUA and discard in Linux's on-disk log format, and replay the log
 * onto a device up to any entry, mark or flush.
 */
@Export
@Version("0.1.0")
package org.dmstack.dm.logwrites;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
