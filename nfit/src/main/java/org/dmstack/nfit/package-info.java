/**
 * The nfit bundle: ACPI NFIT tables parsed ({@link org.dmstack.nfit.NfitParser}), written
 * ({@link org.dmstack.nfit.NfitWriter}) and dumped ({@link org.dmstack.nfit.NfitDump}); emulated
 * NVDIMM platforms ({@link org.dmstack.nfit.EmulatedPlatform}); the regions and NVDIMMs a table
 * describes ({@link org.dmstack.nfit.NfitPlatform}); and {@code ndctl list} output
 * ({@link org.dmstack.nfit.NdctlJson}). Plain Java; the OSGi component lives in the bundle's
 * private internal package.
 */
@Export
@Version("0.1.0")
package org.dmstack.nfit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
