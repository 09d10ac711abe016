package org.dmstack.nfit;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * One NFIT subtable (ACPI 6.x section 5.2.25), every field decoded. Values are unsigned in the
 * table: 8- and 16-bit fields are held in an {@code int}, 32-bit fields in a {@code long}, 64-bit
 * fields in a {@code long} (read them with {@link Long#toUnsignedString} when they may exceed
 * 2^63). Field names follow ACPICA's (actbl2.h) and the descriptions iasl prints.
 */
public sealed interface Subtable {
    int TYPE_SPA = 0;
    int TYPE_MEMORY_MAP = 1;
    int TYPE_INTERLEAVE = 2;
    int TYPE_SMBIOS = 3;
    int TYPE_CONTROL_REGION = 4;
    int TYPE_DATA_REGION = 5;
    int TYPE_FLUSH_HINT = 6;
    int TYPE_CAPABILITIES = 7;

    /** The subtable type (the first 16-bit field). */
    int type();

    /** The name iasl prints for the type, e.g. "System Physical Address Range". */
    static String typeName(int type) {
        return switch (type) {
            case TYPE_SPA -> "System Physical Address Range";
            case TYPE_MEMORY_MAP -> "Memory Range Map";
            case TYPE_INTERLEAVE -> "Interleave Info";
            case TYPE_SMBIOS -> "SMBIOS Information";
            case TYPE_CONTROL_REGION -> "NVDIMM Control Region";
            case TYPE_DATA_REGION -> "NVDIMM Block Data Window Region";
            case TYPE_FLUSH_HINT -> "Flush Hint Address";
            case TYPE_CAPABILITIES -> "Platform Capabilities";
            default -> "Unknown Subtable Type";
        };
    }

    /**
     * The smallest length a subtable of this type may have (-1 for an unknown type). Linux 6.1's
     * add_table() checks: interleave and flush hint structures as ACPICA declares them, with room
     * for one line offset or hint address (sizeof_idt, sizeof_flush); a control region up to its
     * block-window fields (sizeof_dcr). Linux reads SMBIOS and capabilities structures unchecked;
     * here they must hold their fixed fields. Variable parts come on top.
     */
    static int minimumLength(int type) {
        return switch (type) {
            case TYPE_SPA -> SpaRange.LENGTH;
            case TYPE_MEMORY_MAP -> MemoryMap.LENGTH;
            case TYPE_INTERLEAVE -> Interleave.FIXED_LENGTH + 4;
            case TYPE_SMBIOS -> Smbios.FIXED_LENGTH;
            case TYPE_CONTROL_REGION -> ControlRegion.SHORT_LENGTH;
            case TYPE_DATA_REGION -> DataRegion.LENGTH;
            case TYPE_FLUSH_HINT -> FlushHint.FIXED_LENGTH + 8;
            case TYPE_CAPABILITIES -> Capabilities.LENGTH;
            default -> -1;
        };
    }

    /**
     * Type 0: a System Physical Address range.
     *
     * @param flags bit 0 add/online operation only, bit 1 proximity domain valid, bit 2 location
     *     cookie valid (ACPI 6.2; the subtable is then 64 bytes long)
     * @param locationCookie only meaningful when flag bit 2 is set
     */
    record SpaRange(int rangeIndex, int flags, long reserved, long proximityDomain, UUID rangeGuid,
            long address, long length, long memoryMapping, long locationCookie) implements Subtable {
        public static final int LENGTH = 56;
        public static final int LENGTH_WITH_COOKIE = 64;
        public static final int FLAG_ADD_ONLINE_ONLY = 1;
        public static final int FLAG_PROXIMITY_VALID = 1 << 1;
        public static final int FLAG_LOCATION_COOKIE = 1 << 2;

        public SpaRange {
            Objects.requireNonNull(rangeGuid, "rangeGuid");
        }

        @Override
        public int type() {
            return TYPE_SPA;
        }

        public RangeType rangeType() {
            return RangeType.of(rangeGuid);
        }

        public boolean hasLocationCookie() {
            return (flags & FLAG_LOCATION_COOKIE) != 0;
        }

        /** The first address after the range. */
        public long end() {
            return address + length;
        }
    }

    /**
     * Type 1: an NVDIMM's part of an SPA range (Linux's "memdev").
     *
     * @param rangeIndex the SPA range it maps into; 0 when the NVDIMM has no SPA mapping
     * @param regionSize bytes of the NVDIMM in this range
     * @param regionOffset where this NVDIMM's part starts, relative to the SPA range (interleaved
     *     ranges: the first line's offset)
     * @param address the device physical address (DPA) of the part on the NVDIMM
     * @param flags health: bit 0 save failed, 1 restore failed, 2 platform flush failed, 3 not
     *     armed, 4 health events observed, 5 health events enabled, 6 mapping failed
     */
    record MemoryMap(long deviceHandle, int physicalId, int regionId, int rangeIndex, int controlRegionIndex,
            long regionSize, long regionOffset, long address, int interleaveIndex, int interleaveWays,
            int flags, int reserved) implements Subtable {
        public static final int LENGTH = 48;
        public static final int FLAG_SAVE_FAILED = 1;
        public static final int FLAG_RESTORE_FAILED = 1 << 1;
        public static final int FLAG_FLUSH_FAILED = 1 << 2;
        public static final int FLAG_NOT_ARMED = 1 << 3;
        public static final int FLAG_HEALTH_OBSERVED = 1 << 4;
        public static final int FLAG_HEALTH_ENABLED = 1 << 5;
        public static final int FLAG_MAP_FAILED = 1 << 6;

        @Override
        public int type() {
            return TYPE_MEMORY_MAP;
        }
    }

    /** Type 2: an interleave description: line size and the offsets of the lines. */
    record Interleave(int interleaveIndex, int reserved, long lineSize, List<Long> lineOffsets) implements Subtable {
        public static final int FIXED_LENGTH = 16;

        public Interleave {
            lineOffsets = List.copyOf(lineOffsets);
        }

        @Override
        public int type() {
            return TYPE_INTERLEAVE;
        }

        public long lineCount() {
            return lineOffsets.size();
        }
    }

    /** Type 3: SMBIOS management information (opaque data). */
    record Smbios(long reserved, byte[] data) implements Subtable {
        public static final int FIXED_LENGTH = 8;

        public Smbios {
            data = data.clone();
        }

        @Override
        public int type() {
            return TYPE_SMBIOS;
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Smbios s && s.reserved == reserved && Arrays.equals(s.data, data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(reserved) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "Smbios[reserved=" + reserved + ", data=" + HexFormat.of().formatHex(data) + "]";
        }
    }

    /**
     * Type 4: an NVDIMM control region (identifies the NVDIMM). The block-window fields
     * (windowSize to reserved1) exist only in the long (80-byte) form; in the short (32-byte)
     * form, which Linux accepts when there are no block windows, they read as 0.
     *
     * @param validFields bit 0: manufacturing location and date are valid
     * @param code the format interface code (0x301: byte-addressable energy-backed, as QEMU)
     * @param flags bit 0: block data windows buffered
     */
    record ControlRegion(int regionIndex, int vendorId, int deviceId, int revisionId,
            int subsystemVendorId, int subsystemDeviceId, int subsystemRevisionId, int validFields,
            int manufacturingLocation, int manufacturingDate, int reserved, long serialNumber, int code,
            int windows, long windowSize, long commandOffset, long commandSize, long statusOffset,
            long statusSize, int flags, long reserved1) implements Subtable {
        public static final int SHORT_LENGTH = 32;
        public static final int LENGTH = 80;
        public static final int VALID_MANUFACTURING = 1;

        @Override
        public int type() {
            return TYPE_CONTROL_REGION;
        }
    }

    /** Type 5: an NVDIMM block data window region. */
    record DataRegion(int regionIndex, int windows, long offset, long size, long capacity, long startAddress)
            implements Subtable {
        public static final int LENGTH = 40;

        @Override
        public int type() {
            return TYPE_DATA_REGION;
        }
    }

    /** Type 6: the flush hint addresses of one NVDIMM. */
    record FlushHint(long deviceHandle, long reserved, List<Long> hintAddresses) implements Subtable {
        public static final int FIXED_LENGTH = 16;

        public FlushHint {
            hintAddresses = List.copyOf(hintAddresses);
        }

        @Override
        public int type() {
            return TYPE_FLUSH_HINT;
        }

        public int hintCount() {
            return hintAddresses.size();
        }
    }

    /**
     * Type 7: platform capabilities. Only the bits up to {@code highestCapability} count
     * ({@link #effective()}), as in Linux.
     *
     * @param capabilities bit 0 CPU cache flush to NVDIMM on power loss, bit 1 memory controller
     *     flush to NVDIMM on power loss, bit 2 memory mirroring
     */
    record Capabilities(int highestCapability, int reserved, long capabilities, long reserved2) implements Subtable {
        public static final int LENGTH = 16;
        public static final int CACHE_FLUSH = 1;
        public static final int MEMORY_FLUSH = 1 << 1;
        public static final int MEMORY_MIRRORING = 1 << 2;

        @Override
        public int type() {
            return TYPE_CAPABILITIES;
        }

        /** The capability bits that are valid: those at or below {@code highestCapability}. */
        public long effective() {
            long mask = highestCapability >= 31 ? 0xFFFF_FFFFL : (1L << (highestCapability + 1)) - 1;
            return capabilities & mask;
        }
    }

    /** A subtable of a type this code does not know: skipped (with a warning), kept for the dump. */
    record Unknown(int type, byte[] body) implements Subtable {
        public Unknown {
            body = body.clone();
        }

        @Override
        public byte[] body() {
            return body.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Unknown u && u.type == type && Arrays.equals(u.body, body);
        }

        @Override
        public int hashCode() {
            return type * 31 + Arrays.hashCode(body);
        }

        @Override
        public String toString() {
            return "Unknown[type=" + type + ", " + body.length + " bytes]";
        }
    }
}
