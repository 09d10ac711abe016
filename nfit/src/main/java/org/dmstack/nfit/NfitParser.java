package org.dmstack.nfit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses an ACPI NFIT binary (for example a copy of /sys/firmware/acpi/tables/NFIT, or what
 * {@link NfitWriter} or iasl produce): the 36-byte header, the checksum, the 4 reserved bytes and
 * subtables of types 0 to 7. Unknown subtable types are skipped with a warning.
 *
 * <p>A table that cannot be used raises {@link NfitException} naming the offset and the reason:
 * wrong signature; header length larger than the data or smaller than the NFIT header; a table
 * truncated inside a subtable header; a subtable shorter than 4 bytes, running past the end, or
 * of a length Linux 6.1's add_table() refuses (an SPA range not exactly 56 bytes, or 64 with the
 * location-cookie flag; a memory-device map not 48; a block data window not 40; a control region
 * under 32; an interleave under 20 or with no lines; a flush hint structure under 24); and,
 * across subtables, duplicate, wrapping or overlapping SPA ranges and maps naming a missing
 * control region. Where Linux is lenient, so is the parser, with a warning in Linux's words: a
 * bad checksum (ACPICA only warns), an unknown subtable type (skipped), a subtable of length 0
 * (the walk ends there), an SPA range of length 0 or index 0, and a memory-device map naming a
 * missing SPA range (kept in the table, skipped). The parser only reads forward, by at least 4
 * bytes a subtable, so it always ends.
 */
public final class NfitParser {
    private static final Logger LOG = LoggerFactory.getLogger(NfitParser.class);

    private NfitParser() {}

    /** Parses the table in a file, such as a copy of /sys/firmware/acpi/tables/NFIT. */
    public static Nfit parse(Path file) throws IOException {
        return parse(Files.readAllBytes(file));
    }

    /** Parses a table held in memory. */
    public static Nfit parse(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        List<String> warnings = new ArrayList<>();
        if (data.length < Nfit.ACPI_HEADER_LENGTH) {
            throw new NfitException(0, "the data is " + data.length + " bytes, shorter than the "
                    + Nfit.ACPI_HEADER_LENGTH + "-byte ACPI table header");
        }
        String signature = ascii(data, 0, 4);
        if (!signature.equals(Nfit.SIGNATURE)) {
            throw new NfitException(0, "wrong signature \"" + printable(signature) + "\", expected \"NFIT\"");
        }
        long length = u32(b, 4);
        if (length > data.length) {
            throw new NfitException(4, "header length " + length + " is larger than the data (" + data.length + " bytes)");
        }
        if (length < Nfit.HEADER_LENGTH) {
            throw new NfitException(4, "header length " + length + " is smaller than the NFIT header ("
                    + Nfit.HEADER_LENGTH + " bytes: the ACPI header and 4 reserved bytes)");
        }
        int len = (int) length;
        int sum = 0;
        for (int i = 0; i < len; i++) sum += data[i] & 0xFF;
        if ((sum & 0xFF) != 0) {
            // ACPICA (acpi_ut_verify_checksum) only warns: ACPI_CHECKSUM_ABORT is FALSE in Linux, so the table is used.
            int stored = data[9] & 0xFF;
            warn(warnings, String.format("offset 0x9: Incorrect checksum in table [NFIT] - 0x%02X, should be 0x%02X",
                    stored, (stored - sum) & 0xFF));
        }
        if (data.length > len) {
            warnings.add(String.format("offset 0x%x: %d bytes after the end of the table (header length %d) ignored",
                    len, data.length - len, len));
        }
        Nfit.Header header = new Nfit.Header(signature, length, u8(b, 8), u8(b, 9), ascii(data, 10, 6),
                ascii(data, 16, 8), u32(b, 24), ascii(data, 28, 4), u32(b, 32));
        long reserved = u32(b, 36);

        List<Nfit.Entry> entries = new ArrayList<>();
        int off = Nfit.HEADER_LENGTH;
        while (off < len) {
            if (len - off < 4) {
                throw new NfitException(off, "table truncated inside a subtable header: " + (len - off)
                        + " bytes left, a subtable header needs 4");
            }
            int type = u16(b, off);
            int slen = u16(b, off + 2);
            if (slen == 0) {
                // add_table() warns and ends the walk there; what came before is used.
                warn(warnings, String.format("offset 0x%x: found a zero length table '%d' parsing nfit; the %d bytes from "
                        + "here to the end of the table are ignored", off, type, len - off));
                break;
            }
            if (slen < 4) {
                throw new NfitException(off, "subtable length " + slen + " (type " + type
                        + ") is shorter than the 4-byte subtable header");
            }
            if ((long) off + slen > len) {
                throw new NfitException(off, describe(type) + " of length " + slen + " runs past the end of the table ("
                        + (off + slen - len) + " bytes beyond table length " + len + ")");
            }
            int min = Subtable.minimumLength(type);
            if (min < 0) {
                warn(warnings, String.format("offset 0x%x: unknown table '%d' parsing nfit; its %d bytes are skipped", off,
                        type, slen));
                byte[] body = new byte[slen - 4];
                System.arraycopy(data, off + 4, body, 0, body.length);
                entries.add(new Nfit.Entry(off, slen, new Unknown(type, body)));
            } else {
                if (slen < min) {
                    throw new NfitException(off, describe(type) + " is " + slen + " bytes, shorter than the "
                            + min + " bytes of its type");
                }
                int exact = exactLength(b, off, type);
                if (exact >= 0 && slen != exact) {
                    throw new NfitException(off, describe(type) + " is " + slen + " bytes, not the " + exact
                            + " bytes of its type" + (type == Subtable.TYPE_SPA ? String.format(" with flags 0x%x", u16(b, off + 6)) : ""));
                }
                entries.add(new Nfit.Entry(off, slen, decode(b, off, type, slen)));
            }
            off += slen;
        }
        validate(entries, warnings);
        return new Nfit(header, reserved, entries, warnings);
    }

    /**
     * The one length Linux's add_spa, add_memdev and add_bdw accept (an SPA range is 64 bytes
     * with the location-cookie flag, 56 without), or -1 for types with a variable length.
     */
    private static int exactLength(ByteBuffer b, int off, int type) {
        return switch (type) {
            case Subtable.TYPE_SPA -> (u16(b, off + 6) & SpaRange.FLAG_LOCATION_COOKIE) != 0
                    ? SpaRange.LENGTH_WITH_COOKIE : SpaRange.LENGTH;
            case Subtable.TYPE_MEMORY_MAP -> MemoryMap.LENGTH;
            case Subtable.TYPE_DATA_REGION -> DataRegion.LENGTH;
            default -> -1;
        };
    }

    private static String describe(int type) {
        return Subtable.typeName(type) + " subtable (type " + type + ")";
    }

    private static Subtable decode(ByteBuffer b, int o, int type, int slen) {
        return switch (type) {
            case Subtable.TYPE_SPA -> {
                int flags = u16(b, o + 6);
                boolean cookie = (flags & SpaRange.FLAG_LOCATION_COOKIE) != 0;
                yield new SpaRange(u16(b, o + 4), flags, u32(b, o + 8), u32(b, o + 12), guid(b, o + 16),
                        b.getLong(o + 32), b.getLong(o + 40), b.getLong(o + 48), cookie ? b.getLong(o + 56) : 0);
            }
            case Subtable.TYPE_MEMORY_MAP -> new MemoryMap(u32(b, o + 4), u16(b, o + 8), u16(b, o + 10), u16(b, o + 12),
                    u16(b, o + 14), b.getLong(o + 16), b.getLong(o + 24), b.getLong(o + 32), u16(b, o + 40),
                    u16(b, o + 42), u16(b, o + 44), u16(b, o + 46));
            case Subtable.TYPE_INTERLEAVE -> {
                long count = u32(b, o + 8);
                if (count == 0) {
                    // sizeof_idt() computes line_count - 1 unsigned: the allocation fails and so does the table.
                    throw new NfitException(o, describe(type) + " has line count 0; it needs at least one line");
                }
                if (count > (slen - Interleave.FIXED_LENGTH) / 4) {
                    throw new NfitException(o, describe(type) + " has line count " + count + " but its length "
                            + slen + " holds only " + (slen - Interleave.FIXED_LENGTH) / 4 + " line offsets");
                }
                List<Long> lines = new ArrayList<>();
                for (int i = 0; i < count; i++) lines.add(u32(b, o + 16 + 4 * i));
                yield new Interleave(u16(b, o + 4), u16(b, o + 6), u32(b, o + 12), lines);
            }
            case Subtable.TYPE_SMBIOS -> {
                byte[] data = new byte[slen - Smbios.FIXED_LENGTH];
                b.get(o + 8, data);
                yield new Smbios(u32(b, o + 4), data);
            }
            case Subtable.TYPE_CONTROL_REGION -> {
                boolean full = slen >= ControlRegion.LENGTH;
                yield new ControlRegion(u16(b, o + 4), u16(b, o + 6), u16(b, o + 8), u16(b, o + 10), u16(b, o + 12),
                        u16(b, o + 14), u16(b, o + 16), u8(b, o + 18), u8(b, o + 19), u16(b, o + 20), u16(b, o + 22),
                        u32(b, o + 24), u16(b, o + 28), u16(b, o + 30),
                        full ? b.getLong(o + 32) : 0, full ? b.getLong(o + 40) : 0, full ? b.getLong(o + 48) : 0,
                        full ? b.getLong(o + 56) : 0, full ? b.getLong(o + 64) : 0, full ? u16(b, o + 72) : 0,
                        full ? u48(b, o + 74) : 0);
            }
            case Subtable.TYPE_DATA_REGION -> new DataRegion(u16(b, o + 4), u16(b, o + 6), b.getLong(o + 8),
                    b.getLong(o + 16), b.getLong(o + 24), b.getLong(o + 32));
            case Subtable.TYPE_FLUSH_HINT -> {
                int count = u16(b, o + 8);
                if (count > (slen - FlushHint.FIXED_LENGTH) / 8) {
                    throw new NfitException(o, describe(type) + " has hint count " + count + " but its length "
                            + slen + " holds only " + (slen - FlushHint.FIXED_LENGTH) / 8 + " hint addresses");
                }
                List<Long> hints = new ArrayList<>();
                for (int i = 0; i < count; i++) hints.add(b.getLong(o + 16 + 8 * i));
                yield new FlushHint(u32(b, o + 4), u48(b, o + 10), hints);
            }
            case Subtable.TYPE_CAPABILITIES -> new Capabilities(u8(b, o + 4), u24(b, o + 5), u32(b, o + 8), u32(b, o + 12));
            default -> throw new IllegalStateException("type " + type);
        };
    }

    /**
     * Checks across subtables. Refused: a range wrapping the address space, duplicate or
     * overlapping SPA ranges (Linux would alias the memory in two regions, or fail to insert the
     * second resource), and, as Linux's __nfit_mem_init ("SPA %d missing DCR %d"), a memory-device
     * map of a persistent-memory or control-region range, or of no range, naming a control region
     * the table does not have. What Linux only skips is skipped here too, with a warning: an SPA
     * range of length 0 ("invalid spa length") or, unless virtual, of index 0 ("invalid spa
     * index"), and a memory-device map naming an SPA range index the table does not have.
     * {@link Nfit#regionRanges()} and {@link Nfit#memoryMaps()} leave them out.
     */
    private static void validate(List<Nfit.Entry> entries, List<String> warnings) {
        Map<Integer, Nfit.Entry> byIndex = new HashMap<>();
        List<Nfit.Entry> spas = new ArrayList<>();
        for (Nfit.Entry e : entries) {
            if (!(e.subtable() instanceof SpaRange s)) continue;
            if (s.rangeIndex() == 0 && !s.rangeType().isVirtual()) {
                warn(warnings, String.format("offset 0x%x: SPA range index 0 is invalid (detected invalid spa index); "
                        + "skipped", e.offset()));
                continue;
            }
            Nfit.Entry first = byIndex.putIfAbsent(s.rangeIndex(), e);
            if (first != null) {
                throw new NfitException(e.offset(), String.format("duplicate SPA range index %d (already used by the "
                        + "SPA range at offset 0x%x)", s.rangeIndex(), first.offset()));
            }
            if (s.length() == 0) {
                warn(warnings, String.format("offset 0x%x: SPA range index %d has length 0; skipped", e.offset(), s.rangeIndex()));
                continue;
            }
            if (Long.compareUnsigned(s.address() + s.length() - 1, s.address()) < 0) {
                throw new NfitException(e.offset(), String.format("SPA range index %d at 0x%x with length 0x%x wraps "
                        + "past the top of the address space", s.rangeIndex(), s.address(), s.length()));
            }
            spas.add(e);
        }
        for (int i = 0; i < spas.size(); i++) {
            SpaRange a = (SpaRange) spas.get(i).subtable();
            for (int j = 0; j < i; j++) {
                SpaRange c = (SpaRange) spas.get(j).subtable();
                if (Long.compareUnsigned(a.address(), c.address() + c.length() - 1) <= 0
                        && Long.compareUnsigned(c.address(), a.address() + a.length() - 1) <= 0) {
                    throw new NfitException(spas.get(i).offset(), String.format(
                            "SPA range index %d [0x%x-0x%x] overlaps SPA range index %d [0x%x-0x%x] at offset 0x%x",
                            a.rangeIndex(), a.address(), a.address() + a.length() - 1, c.rangeIndex(), c.address(),
                            c.address() + c.length() - 1, spas.get(j).offset()));
                }
            }
        }
        Set<Integer> dcrs = new HashSet<>();
        for (Nfit.Entry e : entries) {
            if (e.subtable() instanceof ControlRegion c) dcrs.add(c.regionIndex());
        }
        for (Nfit.Entry e : entries) {
            if (!(e.subtable() instanceof MemoryMap m)) continue;
            Nfit.Entry spa = m.rangeIndex() == 0 ? null : byIndex.get(m.rangeIndex());
            if (m.rangeIndex() != 0 && spa == null) {
                warn(warnings, String.format("offset 0x%x: memory device map (handle 0x%x) names SPA range index %d, but no "
                        + "SPA range has that index; skipped", e.offset(), m.deviceHandle(), m.rangeIndex()));
                continue;
            }
            // __nfit_mem_init looks up the control region of every map of a persistent-memory or
            // control-region range, and of every unmapped NVDIMM; a missing one fails the table (-ENODEV).
            RangeType kind = spa == null ? null : ((SpaRange) spa.subtable()).rangeType();
            boolean looked = kind == null || kind == RangeType.PERSISTENT_MEMORY || kind == RangeType.CONTROL_REGION;
            if (looked && m.controlRegionIndex() != 0 && !dcrs.contains(m.controlRegionIndex())) {
                throw new NfitException(e.offset(), String.format("SPA %d missing DCR %d: the memory device map (handle 0x%x) "
                        + "names NVDIMM control region index %d, but no control region has that index", m.rangeIndex(),
                        m.controlRegionIndex(), m.deviceHandle(), m.controlRegionIndex()));
            }
        }
    }

    private static void warn(List<String> warnings, String warning) {
        LOG.warn("NFIT {}", warning);
        warnings.add(warning);
    }

    static int u8(ByteBuffer b, int o) {
        return b.get(o) & 0xFF;
    }

    static int u16(ByteBuffer b, int o) {
        return b.getShort(o) & 0xFFFF;
    }

    static int u24(ByteBuffer b, int o) {
        return u16(b, o) | u8(b, o + 2) << 16;
    }

    static long u32(ByteBuffer b, int o) {
        return b.getInt(o) & 0xFFFF_FFFFL;
    }

    static long u48(ByteBuffer b, int o) {
        return u32(b, o) | (long) u16(b, o + 4) << 32;
    }

    /** An EFI GUID: three little-endian fields, then 8 bytes in order. */
    static UUID guid(ByteBuffer b, int o) {
        long msb = u32(b, o) << 32 | (long) u16(b, o + 4) << 16 | u16(b, o + 6);
        long lsb = 0;
        for (int i = 8; i < 16; i++) lsb = lsb << 8 | u8(b, o + i);
        return new UUID(msb, lsb);
    }

    private static String ascii(byte[] data, int off, int len) {
        return new String(data, off, len, StandardCharsets.ISO_8859_1);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7F) sb.append(c);
            else sb.append(String.format("\\x%02X", (int) c));
        }
        return sb.toString();
    }
}
