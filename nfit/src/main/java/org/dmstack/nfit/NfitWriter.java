package org.dmstack.nfit;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
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
 * Writes NFIT binaries: the header (length and checksum computed), 4 reserved bytes and the
 * subtables in the order given. It writes what it is given, valid or not, so tests can build bad
 * tables too; {@link NfitParser} is what checks. Control regions are always written in the long
 * (80-byte) form and SPA ranges in the 56-byte form unless their location-cookie flag is set, as
 * QEMU and iasl do.
 */
public final class NfitWriter {
    private NfitWriter() {}

    /** The header an emulated platform's table carries (length and checksum are filled in). */
    public static Nfit.Header defaultHeader() {
        return new Nfit.Header(Nfit.SIGNATURE, 0, 1, 0, "DMSTCK", "DMSTNFIT", 1, "DMST", 1);
    }

    /** Writes a table: {@code header}'s identifying fields (its length and checksum are recomputed). */
    public static byte[] write(Nfit.Header header, List<? extends Subtable> subtables) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Subtable s : subtables) body.writeBytes(encode(s));
        int length = Nfit.HEADER_LENGTH + body.size();
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        putAscii(b, 0, header.signature(), 4);
        b.putInt(4, length);
        b.put(8, (byte) header.revision());
        putAscii(b, 10, header.oemId(), 6);
        putAscii(b, 16, header.oemTableId(), 8);
        b.putInt(24, (int) header.oemRevision());
        putAscii(b, 28, header.aslCompilerId(), 4);
        b.putInt(32, (int) header.aslCompilerRevision());
        b.put(Nfit.HEADER_LENGTH, body.toByteArray());
        byte[] out = b.array();
        int sum = 0;
        for (byte x : out) sum += x & 0xFF;
        out[9] = (byte) -sum;
        return out;
    }

    /** Writes a parsed table back (its reserved field included). */
    public static byte[] write(Nfit nfit) {
        byte[] out = write(nfit.header(), nfit.subtables());
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(36, (int) nfit.reserved());
        int sum = 0;
        out[9] = 0;
        for (byte x : out) sum += x & 0xFF;
        out[9] = (byte) -sum;
        return out;
    }

    /** One subtable, with its 4-byte type and length header. */
    public static byte[] encode(Subtable s) {
        ByteBuffer b;
        switch (s) {
            case SpaRange r -> {
                b = start(r.type(), r.hasLocationCookie() ? SpaRange.LENGTH_WITH_COOKIE : SpaRange.LENGTH);
                b.putShort(4, (short) r.rangeIndex()).putShort(6, (short) r.flags()).putInt(8, (int) r.reserved())
                        .putInt(12, (int) r.proximityDomain());
                putGuid(b, 16, r.rangeGuid());
                b.putLong(32, r.address()).putLong(40, r.length()).putLong(48, r.memoryMapping());
                if (r.hasLocationCookie()) b.putLong(56, r.locationCookie());
            }
            case MemoryMap m -> {
                b = start(m.type(), MemoryMap.LENGTH);
                b.putInt(4, (int) m.deviceHandle()).putShort(8, (short) m.physicalId()).putShort(10, (short) m.regionId())
                        .putShort(12, (short) m.rangeIndex()).putShort(14, (short) m.controlRegionIndex())
                        .putLong(16, m.regionSize()).putLong(24, m.regionOffset()).putLong(32, m.address())
                        .putShort(40, (short) m.interleaveIndex()).putShort(42, (short) m.interleaveWays())
                        .putShort(44, (short) m.flags()).putShort(46, (short) m.reserved());
            }
            case Interleave i -> {
                b = start(i.type(), Interleave.FIXED_LENGTH + 4 * i.lineOffsets().size());
                b.putShort(4, (short) i.interleaveIndex()).putShort(6, (short) i.reserved())
                        .putInt(8, i.lineOffsets().size()).putInt(12, (int) i.lineSize());
                for (int k = 0; k < i.lineOffsets().size(); k++) b.putInt(16 + 4 * k, (int) (long) i.lineOffsets().get(k));
            }
            case Smbios m -> {
                byte[] data = m.data();
                b = start(m.type(), Smbios.FIXED_LENGTH + data.length);
                b.putInt(4, (int) m.reserved()).put(8, data);
            }
            case ControlRegion c -> {
                b = start(c.type(), ControlRegion.LENGTH);
                b.putShort(4, (short) c.regionIndex()).putShort(6, (short) c.vendorId()).putShort(8, (short) c.deviceId())
                        .putShort(10, (short) c.revisionId()).putShort(12, (short) c.subsystemVendorId())
                        .putShort(14, (short) c.subsystemDeviceId()).putShort(16, (short) c.subsystemRevisionId())
                        .put(18, (byte) c.validFields()).put(19, (byte) c.manufacturingLocation())
                        .putShort(20, (short) c.manufacturingDate()).putShort(22, (short) c.reserved())
                        .putInt(24, (int) c.serialNumber()).putShort(28, (short) c.code()).putShort(30, (short) c.windows())
                        .putLong(32, c.windowSize()).putLong(40, c.commandOffset()).putLong(48, c.commandSize())
                        .putLong(56, c.statusOffset()).putLong(64, c.statusSize()).putShort(72, (short) c.flags());
                putU48(b, 74, c.reserved1());
            }
            case DataRegion d -> {
                b = start(d.type(), DataRegion.LENGTH);
                b.putShort(4, (short) d.regionIndex()).putShort(6, (short) d.windows()).putLong(8, d.offset())
                        .putLong(16, d.size()).putLong(24, d.capacity()).putLong(32, d.startAddress());
            }
            case FlushHint f -> {
                b = start(f.type(), FlushHint.FIXED_LENGTH + 8 * f.hintAddresses().size());
                b.putInt(4, (int) f.deviceHandle()).putShort(8, (short) f.hintAddresses().size());
                putU48(b, 10, f.reserved());
                for (int k = 0; k < f.hintAddresses().size(); k++) b.putLong(16 + 8 * k, f.hintAddresses().get(k));
            }
            case Capabilities c -> {
                b = start(c.type(), Capabilities.LENGTH);
                b.put(4, (byte) c.highestCapability()).putShort(5, (short) c.reserved()).put(7, (byte) (c.reserved() >>> 16))
                        .putInt(8, (int) c.capabilities()).putInt(12, (int) c.reserved2());
            }
            case Unknown u -> {
                byte[] body = u.body();
                b = start(u.type(), 4 + body.length);
                b.put(4, body);
            }
        }
        return b.array();
    }

    private static ByteBuffer start(int type, int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) type).putShort(2, (short) length);
        return b;
    }

    private static void putU48(ByteBuffer b, int o, long v) {
        b.putInt(o, (int) v).putShort(o + 4, (short) (v >>> 32));
    }

    private static void putAscii(ByteBuffer b, int o, String s, int len) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < len; i++) b.put(o + i, i < bytes.length ? bytes[i] : (byte) ' ');
    }

    /** An EFI GUID: three little-endian fields, then 8 bytes in order. */
    static void putGuid(ByteBuffer b, int o, UUID g) {
        long msb = g.getMostSignificantBits();
        long lsb = g.getLeastSignificantBits();
        b.putInt(o, (int) (msb >>> 32)).putShort(o + 4, (short) (msb >>> 16)).putShort(o + 6, (short) msb);
        for (int i = 0; i < 8; i++) b.put(o + 8 + i, (byte) (lsb >>> (56 - 8 * i)));
    }
}
