/**
 * The brd RAM disk driver: {@link org.dmstack.brd.Brd} makes ram0 ... ramN-1 from a
 * {@link org.dmstack.brd.BrdConfig}, for embedded use; inside OSGi a Declarative Services
 * component does the same from the configuration {@code org.dmstack.brd}.
 */
@Export
@Version("0.1.0")
package org.dmstack.brd;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
