package org.dmstack.nfit;

import java.util.List;
import java.util.Locale;
import org.dmstack.units.Units;
import org.dmstack.nfit.Subtable.Capabilities;
import org.dmstack.nfit.Subtable.ControlRegion;
import org.dmstack.nfit.Subtable.DataRegion;
import org.dmstack.nfit.Subtable.FlushHint;
import org.dmstack.nfit.Subtable.Interleave;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.Smbios;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nfit.Subtable.Unknown;

/**
 * A readable dump of a parsed table, in the layout of ACPICA's {@code iasl -d}: one line per
 * field, {@code [HexOffset DecimalOffset ByteLength]  FieldName : FieldValue}, with iasl's field
 * names and value formats and the flag bits decoded below their field. Offsets are the true byte
 * offsets in the table. After the fields, a short summary says what the SPA ranges hold.
 *
 * <p>Because the fields are printed from the parsed subtables (not from the raw bytes), comparing
 * this dump with iasl's for the same binary checks every decoded value.
 */
public final class NfitDump {
    private final StringBuilder out = new StringBuilder();

    private NfitDump() {}

    /** The dump of {@code nfit}. */
    public static String dump(Nfit nfit) {
        NfitDump d = new NfitDump();
        d.table(nfit);
        return d.out.toString();
    }

    private void table(Nfit nfit) {
        Nfit.Header h = nfit.header();
        out.append("/*\n * dmstack NFIT dump\n *\n * ACPI Data Table [NFIT]\n *\n")
                .append(" * Format: [HexOffset DecimalOffset ByteLength]  FieldName : FieldValue\n */\n\n");
        field(0, 4, "Signature", "\"" + h.signature() + "\"    [NVDIMM Firmware Interface Table]");
        field(4, 4, "Table Length", hex(h.length(), 8));
        field(8, 1, "Revision", hex(h.revision(), 2));
        field(9, 1, "Checksum", hex(h.checksum(), 2));
        field(10, 6, "Oem ID", "\"" + h.oemId() + "\"");
        field(16, 8, "Oem Table ID", "\"" + h.oemTableId() + "\"");
        field(24, 4, "Oem Revision", hex(h.oemRevision(), 8));
        field(28, 4, "Asl Compiler ID", "\"" + h.aslCompilerId() + "\"");
        field(32, 4, "Asl Compiler Revision", hex(h.aslCompilerRevision(), 8));
        out.append('\n');
        field(36, 4, "Reserved", hex(nfit.reserved(), 8));
        for (Nfit.Entry e : nfit.entries()) {
            out.append('\n');
            int o = e.offset();
            Subtable s = e.subtable();
            field(o, 2, "Subtable Type", hex(s.type(), 4) + " [" + Subtable.typeName(s.type()) + "]");
            field(o + 2, 2, "Length", hex(e.length(), 4));
            out.append('\n');
            subtable(o, e.length(), s);
        }
        summary(nfit);
    }

    private void subtable(int o, int length, Subtable s) {
        switch (s) {
            case SpaRange r -> {
                field(o + 4, 2, "Range Index", hex(r.rangeIndex(), 4));
                field(o + 6, 2, "Flags (decoded below)", hex(r.flags(), 4));
                bit("Add/Online Operation Only", r.flags(), 0);
                bit("Proximity Domain Valid", r.flags(), 1);
                if (r.hasLocationCookie()) bit("Location Cookie Valid", r.flags(), 2);
                field(o + 8, 4, "Reserved", hex(r.reserved(), 8));
                field(o + 12, 4, "Proximity Domain", hex(r.proximityDomain(), 8));
                field(o + 16, 16, "Region Type GUID", r.rangeGuid().toString().toUpperCase(Locale.ROOT));
                field(o + 32, 8, "Address Range Base", hex(r.address(), 16));
                field(o + 40, 8, "Address Range Length", hex(r.length(), 16));
                field(o + 48, 8, "Memory Map Attribute", hex(r.memoryMapping(), 16));
                if (r.hasLocationCookie()) field(o + 56, 8, "LocationCookie", hex(r.locationCookie(), 16));
            }
            case MemoryMap m -> {
                field(o + 4, 4, "Device Handle", hex(m.deviceHandle(), 8));
                field(o + 8, 2, "Physical Id", hex(m.physicalId(), 4));
                field(o + 10, 2, "Region Id", hex(m.regionId(), 4));
                field(o + 12, 2, "Range Index", hex(m.rangeIndex(), 4));
                field(o + 14, 2, "Control Region Index", hex(m.controlRegionIndex(), 4));
                field(o + 16, 8, "Region Size", hex(m.regionSize(), 16));
                field(o + 24, 8, "Region Offset", hex(m.regionOffset(), 16));
                field(o + 32, 8, "Address Region Base", hex(m.address(), 16));
                field(o + 40, 2, "Interleave Index", hex(m.interleaveIndex(), 4));
                field(o + 42, 2, "Interleave Ways", hex(m.interleaveWays(), 4));
                field(o + 44, 2, "Flags", hex(m.flags(), 4));
                bit("Save to device failed", m.flags(), 0);
                bit("Restore from device failed", m.flags(), 1);
                bit("Platform flush failed", m.flags(), 2);
                bit("Device not armed", m.flags(), 3);
                bit("Health events observed", m.flags(), 4);
                bit("Health events enabled", m.flags(), 5);
                bit("Mapping failed", m.flags(), 6);
                field(o + 46, 2, "Reserved", hex(m.reserved(), 4));
            }
            case Interleave i -> {
                field(o + 4, 2, "Interleave Index", hex(i.interleaveIndex(), 4));
                field(o + 6, 2, "Reserved", hex(i.reserved(), 4));
                field(o + 8, 4, "Line Count", hex(i.lineCount(), 8));
                field(o + 12, 4, "Line Size", hex(i.lineSize(), 8));
                for (int k = 0; k < i.lineOffsets().size(); k++) {
                    field(o + 16 + 4 * k, 4, "Line Offset", hex(i.lineOffsets().get(k), 8));
                }
            }
            case Smbios m -> {
                field(o + 4, 4, "Reserved", hex(m.reserved(), 8));
                byte[] data = m.data();
                if (data.length > 0) {
                    StringBuilder v = new StringBuilder("\\\n");
                    for (int k = 0; k < data.length; k++) {
                        if (k % 16 == 0) v.append("    ");
                        v.append(String.format("%02X ", data[k] & 0xFF));
                        if (k % 16 == 15 && k != data.length - 1) v.append("\\\n");
                    }
                    field(o + 8, data.length, "SMBIOS Table Entries", v.toString());
                }
            }
            case ControlRegion c -> {
                field(o + 4, 2, "Region Index", hex(c.regionIndex(), 4));
                field(o + 6, 2, "Vendor Id", hex(c.vendorId(), 4));
                field(o + 8, 2, "Device Id", hex(c.deviceId(), 4));
                field(o + 10, 2, "Revision Id", hex(c.revisionId(), 4));
                field(o + 12, 2, "Subsystem Vendor Id", hex(c.subsystemVendorId(), 4));
                field(o + 14, 2, "Subsystem Device Id", hex(c.subsystemDeviceId(), 4));
                field(o + 16, 2, "Subsystem Revision Id", hex(c.subsystemRevisionId(), 4));
                field(o + 18, 1, "Valid Fields", hex(c.validFields(), 2));
                field(o + 19, 1, "Manufacturing Location", hex(c.manufacturingLocation(), 2));
                field(o + 20, 2, "Manufacturing Date", hex(c.manufacturingDate(), 4));
                field(o + 22, 2, "Reserved", hex(c.reserved(), 4));
                field(o + 24, 4, "Serial Number", hex(c.serialNumber(), 8));
                field(o + 28, 2, "Code", hex(c.code(), 4));
                field(o + 30, 2, "Window Count", hex(c.windows(), 4));
                if (length >= ControlRegion.LENGTH) {
                    field(o + 32, 8, "Window Size", hex(c.windowSize(), 16));
                    field(o + 40, 8, "Command Offset", hex(c.commandOffset(), 16));
                    field(o + 48, 8, "Command Size", hex(c.commandSize(), 16));
                    field(o + 56, 8, "Status Offset", hex(c.statusOffset(), 16));
                    field(o + 64, 8, "Status Size", hex(c.statusSize(), 16));
                    field(o + 72, 2, "Flags", hex(c.flags(), 4));
                    bit("Windows buffered", c.flags(), 0);
                    field(o + 74, 6, "Reserved1", hex(c.reserved1(), 12));
                }
            }
            case DataRegion d -> {
                field(o + 4, 2, "Region Index", hex(d.regionIndex(), 4));
                field(o + 6, 2, "Window Count", hex(d.windows(), 4));
                field(o + 8, 8, "Offset", hex(d.offset(), 16));
                field(o + 16, 8, "Size", hex(d.size(), 16));
                field(o + 24, 8, "Capacity", hex(d.capacity(), 16));
                field(o + 32, 8, "Start Address", hex(d.startAddress(), 16));
            }
            case FlushHint f -> {
                field(o + 4, 4, "Device Handle", hex(f.deviceHandle(), 8));
                field(o + 8, 2, "Hint Count", hex(f.hintCount(), 4));
                field(o + 10, 6, "Reserved", hex(f.reserved(), 12));
                for (int k = 0; k < f.hintCount(); k++) {
                    field(o + 16 + 8 * k, 8, "Hint Address", hex(f.hintAddresses().get(k), 16));
                }
            }
            case Capabilities c -> {
                field(o + 4, 1, "Highest Capability", hex(c.highestCapability(), 2));
                field(o + 5, 3, "Reserved", hex(c.reserved(), 6));
                field(o + 8, 4, "Capabilities (decoded below)", hex(c.capabilities(), 8));
                bit("Cache Flush to NVDIMM", c.capabilities(), 0);
                bit("Memory Flush to NVDIMM", c.capabilities(), 1);
                bit("Memory Mirroring", c.capabilities(), 2);
                field(o + 12, 4, "Reserved", hex(c.reserved2(), 8));
            }
            case Unknown u -> {
                StringBuilder v = new StringBuilder();
                for (byte x : u.body()) v.append(String.format("%02X ", x & 0xFF));
                field(o + 4, length - 4, "Unknown Data (skipped)", v.toString().trim());
            }
        }
    }

    private void summary(Nfit nfit) {
        out.append("\nSummary:\n");
        for (SpaRange r : nfit.all(SpaRange.class)) {
            if (r.length() == 0) {
                out.append(String.format("    SPA range %d: %s, empty (skipped)%n", r.rangeIndex(), r.rangeType().description()));
                continue;
            }
            out.append(String.format("    SPA range %d: %s, 0x%x-0x%x (%s)%n", r.rangeIndex(), r.rangeType().description(),
                    r.address(), r.address() + r.length() - 1, Units.humanSize(r.length())));
        }
        nfit.capabilities().ifPresentOrElse(
                c -> out.append(String.format("    Platform capabilities in effect: 0x%x%n", c.effective())),
                () -> out.append("    No platform capabilities subtable\n"));
        List<String> warnings = nfit.warnings();
        for (String w : warnings) out.append("    Warning: ").append(w).append('\n');
    }

    private void field(int offset, int length, String name, String value) {
        out.append(String.format("[%03Xh %04d %3d] %28s : %s%n", offset, offset, length, name, value));
    }

    private void bit(String name, long flags, int bit) {
        out.append(String.format("%16s%28s : %d%n", "", name, (flags >>> bit) & 1));
    }

    private static String hex(long value, int digits) {
        String s = Long.toHexString(value).toUpperCase(Locale.ROOT);
        if (digits < 16) s = Long.toHexString(value & ((1L << (4 * digits)) - 1)).toUpperCase(Locale.ROOT);
        return "0".repeat(Math.max(0, digits - s.length())) + s;
    }
}
