package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nfit.Subtable.Unknown;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every kind of bad table gets an error naming the offset and the reason, or a warning and a skip. */
class NfitParserBadInputTest {
    private static final EmulatedPlatform PLATFORM = EmulatedPlatform.fromConfig(
            List.of("pmem:64M:/tmp/a", "pmem:64M:/tmp/b", "volatile:32M"), "cpu", List.of());
    private static final int FIRST = Nfit.HEADER_LENGTH;

    private static byte[] good() {
        return PLATFORM.toBinary();
    }

    private static NfitException rejects(byte[] table, long offset, String reason) {
        NfitException e = assertThrows(NfitException.class, () -> NfitParser.parse(table));
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().startsWith("NFIT offset 0x" + Long.toHexString(offset) + ": "), e.getMessage());
        assertTrue(e.reason().contains(reason), "'" + e.getMessage() + "' should say '" + reason + "'");
        return e;
    }

    private static byte[] fixChecksum(byte[] t) {
        int len = ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN).getInt(4);
        t[9] = 0;
        int sum = 0;
        for (int i = 0; i < Math.min(len, t.length); i++) sum += t[i] & 0xFF;
        t[9] = (byte) -sum;
        return t;
    }

    private static byte[] withHeaderLength(byte[] t, int length) {
        byte[] c = t.clone();
        ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN).putInt(4, length);
        return fixChecksum(c);
    }

    private static byte[] table(Subtable... subtables) {
        return NfitWriter.write(NfitWriter.defaultHeader(), List.of(subtables));
    }

    private static SpaRange pmem(int index, long address, long length) {
        return new SpaRange(index, 0, 0, 0, RangeType.PERSISTENT_MEMORY.guid(), address, length, 0x8008, 0);
    }

    @Test
    void goodTableParses() {
        Nfit nfit = NfitParser.parse(good());
        assertEquals(PLATFORM.subtables(), nfit.subtables());
        assertTrue(nfit.warnings().isEmpty());
    }

    @Test
    void wrongSignature() {
        byte[] t = good();
        System.arraycopy("APIC".getBytes(), 0, t, 0, 4);
        rejects(t, 0, "wrong signature \"APIC\", expected \"NFIT\"");
    }

    @Test
    void dataShorterThanTheAcpiHeader() {
        rejects(Arrays.copyOf(good(), 20), 0, "the data is 20 bytes, shorter than the 36-byte ACPI table header");
    }

    @Test
    void headerLengthLargerThanTheData() {
        byte[] t = good();
        rejects(withHeaderLength(t, t.length + 8), 4, "header length " + (t.length + 8) + " is larger than the data");
        rejects(Arrays.copyOf(t, t.length - 10), 4, "is larger than the data (" + (t.length - 10) + " bytes)");
    }

    @Test
    void headerLengthSmallerThanTheHeader() {
        rejects(withHeaderLength(good(), 20), 4, "header length 20 is smaller than the NFIT header (40 bytes");
        rejects(withHeaderLength(good(), 38), 4, "header length 38 is smaller than the NFIT header");
    }

    /**
     * ACPICA's acpi_ut_verify_checksum warns and, ACPI_CHECKSUM_ABORT being FALSE in Linux, the
     * table is used (drivers/acpi/acpica/utcksum.c).
     */
    @Test
    void badChecksumIsAWarningAndTheTableIsUsed() {
        byte[] t = good();
        int stored = t[9] & 0xFF;
        t[9] = (byte) (stored + 0x10);
        Nfit nfit = NfitParser.parse(t);
        assertEquals(List.of(String.format("offset 0x9: Incorrect checksum in table [NFIT] - 0x%02X, should be 0x%02X",
                (stored + 0x10) & 0xFF, stored)), nfit.warnings());
        assertEquals(PLATFORM.subtables(), nfit.subtables());
    }

    @Test
    void tableTruncatedInsideASubtableHeader() {
        rejects(withHeaderLength(good(), FIRST + SpaRange.LENGTH + 2), FIRST + SpaRange.LENGTH,
                "table truncated inside a subtable header: 2 bytes left");
    }

    @Test
    void tableTruncatedInsideASubtableBody() {
        rejects(withHeaderLength(good(), FIRST + SpaRange.LENGTH + 20), FIRST + SpaRange.LENGTH,
                "Memory Range Map subtable (type 1) of length 48 runs past the end of the table");
    }

    /** add_table(): "found a zero length table '%d' parsing nfit", and the walk ends there. */
    @Test
    void subtableOfLengthZeroEndsTheWalkWithAWarning() {
        byte[] t = table(pmem(1, 0x100000000L, 1 << 20), pmem(2, 0x200000000L, 1 << 20), pmem(3, 0x300000000L, 1 << 20));
        int second = FIRST + SpaRange.LENGTH;
        t[second + 2] = 0;
        t[second + 3] = 0;
        Nfit nfit = NfitParser.parse(fixChecksum(t));
        assertEquals(List.of(String.format("offset 0x%x: found a zero length table '0' parsing nfit; the 112 bytes from "
                + "here to the end of the table are ignored", second)), nfit.warnings());
        assertEquals(List.of(1), nfit.all(SpaRange.class).stream().map(SpaRange::rangeIndex).toList());
    }

    @Test
    void subtableShorterThanItsOwnHeader() {
        byte[] t = good();
        t[FIRST + 2] = 3;
        t[FIRST + 3] = 0;
        rejects(fixChecksum(t), FIRST, "subtable length 3 (type 0) is shorter than the 4-byte subtable header");
    }

    @Test
    void subtableRunningPastTheEnd() {
        byte[] t = table(pmem(1, 0x100000000L, 1 << 20), new MemoryMap(1, 0, 0, 1, 0, 1 << 20, 0, 0, 0, 1, 0, 0));
        int memdev = FIRST + SpaRange.LENGTH;
        ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN).putShort(memdev + 2, (short) 200);
        rejects(fixChecksum(t), memdev, "Memory Range Map subtable (type 1) of length 200 runs past the end of the table "
                + "(152 bytes beyond table length " + t.length + ")");
    }

    @ParameterizedTest(name = "type {0} of length {1}")
    @CsvSource({"0,55,56", "1,40,48", "2,19,20", "3,7,8", "4,31,32", "5,39,40", "6,23,24", "7,12,16"})
    void subtableShorterThanItsTypesMinimum(int type, int length, int minimum) {
        byte[] t = table(new Unknown(type, new byte[length - 4]));
        rejects(t, FIRST, Subtable.typeName(type) + " subtable (type " + type + ") is " + length
                + " bytes, shorter than the " + minimum + " bytes of its type");
    }

    /** add_spa, add_memdev and add_bdw take one length only; anything else fails the table. */
    @ParameterizedTest(name = "type {0} of length {1}")
    @CsvSource({"0,60,56,' with flags 0x0'", "0,64,56,' with flags 0x0'", "1,52,48,''", "5,44,40,''"})
    void subtableLongerThanItsType(int type, int length, int expected, String flags) {
        rejects(table(new Unknown(type, new byte[length - 4])), FIRST, Subtable.typeName(type) + " subtable (type " + type
                + ") is " + length + " bytes, not the " + expected + " bytes of its type" + flags);
    }

    /** sizeof_spa(): 64 bytes with the location-cookie flag (ACPI 6.4), 56 without. */
    @Test
    void spaLengthFollowsTheLocationCookieFlag() {
        byte[] t = table(pmem(1, 0x100000000L, 1 << 20));
        ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN).putShort(FIRST + 6, (short) SpaRange.FLAG_LOCATION_COOKIE);
        rejects(fixChecksum(t), FIRST, "System Physical Address Range subtable (type 0) is 56 bytes, not the 64 bytes of "
                + "its type with flags 0x4");
    }

    /** sizeof_idt() with line_count 0 asks for 2^34 bytes: the table fails with -ENOMEM. */
    @Test
    void interleaveWithoutLines() {
        ByteBuffer body = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        body.putShort(0, (short) 1).putInt(4, 0).putInt(8, 4096);
        rejects(table(new Unknown(Subtable.TYPE_INTERLEAVE, body.array())), FIRST,
                "Interleave Info subtable (type 2) has line count 0; it needs at least one line");
    }

    /** sizeof_flush() with hint_count 0 wraps to 16 bytes, which Linux accepts. */
    @Test
    void flushHintWithoutHintsIsAccepted() {
        byte[] body = new byte[20];
        body[0] = 1;
        Nfit nfit = NfitParser.parse(table(new Unknown(Subtable.TYPE_FLUSH_HINT, body)));
        assertEquals(List.of(new Subtable.FlushHint(1, 0, List.of())), nfit.subtables());
    }

    /** __nfit_mem_init: "SPA %d missing DCR %d", and the whole table fails (-ENODEV). */
    @Test
    void memoryDeviceMapNamingAMissingControlRegion() {
        rejects(table(pmem(1, 0x100000000L, 1 << 20), new MemoryMap(0x21, 0, 0, 1, 9, 1 << 20, 0, 0, 0, 1, 0, 0)),
                FIRST + SpaRange.LENGTH, "SPA 1 missing DCR 9: the memory device map (handle 0x21) names NVDIMM control "
                        + "region index 9, but no control region has that index");
        // A map of a volatile range: __nfit_mem_init does not look at it.
        SpaRange volatileRange = new SpaRange(1, 0, 0, 0, RangeType.VOLATILE_MEMORY.guid(), 0x100000000L, 1 << 20, 0, 0);
        assertEquals(2, NfitParser.parse(table(volatileRange, new MemoryMap(0x21, 0, 0, 1, 9, 1 << 20, 0, 0, 0, 1, 0, 0)))
                .subtables().size());
    }

    /** acpi_nfit_register_region: "detected invalid spa index" for index 0 unless virtual. */
    @Test
    void spaRangeIndexZeroIsSkippedUnlessVirtual() {
        SpaRange virtualDisk = new SpaRange(0, 0, 0, 0, RangeType.PERSISTENT_VIRTUAL_DISK.guid(), 0x300000000L, 1 << 20, 0, 0);
        Nfit nfit = NfitParser.parse(table(pmem(0, 0x100000000L, 1 << 20), pmem(1, 0x200000000L, 1 << 20), virtualDisk));
        assertEquals(List.of("offset 0x28: SPA range index 0 is invalid (detected invalid spa index); skipped"), nfit.warnings());
        NfitPlatform p = new NfitPlatform(nfit, List.of(Region.Backing.file(Path.of("r0"), true),
                Region.Backing.file(Path.of("r1"), true)), List.of());
        assertEquals(List.of(0x200000000L, 0x300000000L), p.regions().stream().map(Region::spaStart).toList());
        assertEquals(Region.Type.PERSISTENT, p.regions().get(1).type(), "Linux makes a virtual disk a pmem region");
        NfitException anonymous = assertThrows(NfitException.class, () -> new NfitPlatform(nfit,
                List.of(Region.Backing.file(Path.of("r0"), true), Region.Backing.anonymous()), List.of()));
        assertTrue(anonymous.getMessage().contains("region1 (SPA range index 0, persistent virtual disk, 1M) needs a backing"),
                anonymous.getMessage());
    }

    /** acpi_nfit_init_mapping: "spa%d dimm: %#x not found" when a virtual range's map names no NVDIMM. */
    @Test
    void mapOfAVirtualRangeNamingNoNvdimm() {
        SpaRange virtualDisk = new SpaRange(5, 0, 0, 0, RangeType.VOLATILE_VIRTUAL_DISK.guid(), 0x300000000L, 1 << 20, 0, 0);
        Nfit nfit = NfitParser.parse(table(virtualDisk, new MemoryMap(0x21, 0, 0, 5, 0, 1 << 20, 0, 0, 0, 1, 0, 0)));
        NfitException e = assertThrows(NfitException.class,
                () -> new NfitPlatform(nfit, List.of(Region.Backing.anonymous()), List.of()));
        assertEquals("NFIT offset 0x28: spa5 dimm: 0x21 not found: no persistent-memory, control-region or unmapped memory "
                + "device map makes that NVDIMM", e.getMessage());
    }

    /** __nfit_mem_init stops at the first flush hint structure of a handle. */
    @Test
    void onlyTheFirstFlushHintStructureOfAnNvdimmCounts() {
        Nfit nfit = NfitParser.parse(table(pmem(1, 0x100000000L, 1 << 20), new MemoryMap(0x21, 0, 0, 1, 1, 1 << 20, 0, 0, 0, 1, 0, 0),
                dcr(1), new Subtable.FlushHint(0x21, 0, List.of(0xFED00000L)), new Subtable.FlushHint(0x21, 0, List.of(0xFED01000L))));
        NfitPlatform p = new NfitPlatform(nfit, List.of(Region.Backing.file(Path.of("r0"), true)), List.of());
        assertEquals(List.of(0xFED00000L), p.dimms().getFirst().flushHints());
        assertEquals(List.of(0xFED00000L), p.regions().getFirst().flushHints());
    }

    @Test
    void interleaveLineCountLargerThanItsLength() {
        ByteBuffer body = ByteBuffer.allocate(12 + 8).order(ByteOrder.LITTLE_ENDIAN);
        body.putShort(0, (short) 1).putInt(4, 5).putInt(8, 4096);
        rejects(table(new Unknown(Subtable.TYPE_INTERLEAVE, body.array())), FIRST,
                "has line count 5 but its length 24 holds only 2 line offsets");
    }

    @Test
    void flushHintCountLargerThanItsLength() {
        ByteBuffer body = ByteBuffer.allocate(12 + 8).order(ByteOrder.LITTLE_ENDIAN);
        body.putInt(0, 1).putShort(4, (short) 3);
        rejects(table(new Unknown(Subtable.TYPE_FLUSH_HINT, body.array())), FIRST,
                "has hint count 3 but its length 24 holds only 1 hint addresses");
    }

    @Test
    void unknownTypeIsSkippedWithAWarning() {
        List<Subtable> subs = new ArrayList<>(PLATFORM.subtables());
        subs.add(2, new Unknown(9, new byte[] {1, 2, 3, 4}));
        subs.add(new Unknown(0x7FFF, new byte[0]));
        Nfit nfit = NfitParser.parse(NfitWriter.write(NfitWriter.defaultHeader(), subs));
        assertEquals(2, nfit.warnings().size(), nfit.warnings().toString());
        assertTrue(nfit.warnings().getFirst().endsWith("unknown table '9' parsing nfit; its 8 bytes are skipped"),
                nfit.warnings().toString());
        assertTrue(nfit.warnings().getFirst().startsWith("offset 0x" + Integer.toHexString(FIRST + 56 + 48)));
        List<Region> regions = new NfitPlatform(nfit, PLATFORM.backings(), List.of()).regions();
        assertEquals(3, regions.size(), "the rest of the table is still used");
        assertTrue(NfitDump.dump(nfit).contains("Warning: offset 0x"));
    }

    /**
     * Linux's __nfit_mem_init finds no SPA range for such a map and skips it; the rest of the table
     * is used as usual. The map stays in the table (and the dump), with a warning.
     */
    @Test
    void memoryDeviceMapNamingAMissingSpaRangeIsSkippedWithAWarning() {
        byte[] t = table(pmem(1, 0x100000000L, 1 << 20), new MemoryMap(0x21, 0, 0, 7, 1, 1 << 20, 0, 0, 0, 1, 0, 0),
                new MemoryMap(0x22, 0, 0, 1, 1, 1 << 20, 0, 0, 0, 1, 0, 0), dcr(1));
        Nfit nfit = NfitParser.parse(t);
        assertEquals(List.of(String.format("offset 0x%x: memory device map (handle 0x21) names SPA range index 7, but no SPA "
                + "range has that index; skipped", FIRST + SpaRange.LENGTH)), nfit.warnings());
        assertEquals(2, nfit.all(MemoryMap.class).size());
        NfitPlatform p = new NfitPlatform(nfit, List.of(Region.Backing.file(Path.of("r0"), true)), List.of());
        assertEquals(List.of(0x22L), p.dimms().stream().map(NfitPlatform.Dimm::handle).toList());
        assertEquals(List.of(new Region.Mapping("nmem0", 0x22, 0, 1 << 20, 0)), p.regions().getFirst().mappings());
    }

    @Test
    void memoryDeviceMapWithoutSpaRangeIsAllowed() {
        Nfit nfit = NfitParser.parse(table(new MemoryMap(0x21, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0), dcr(1)));
        assertEquals(1, new NfitPlatform(nfit, List.of(), List.of()).dimms().size());
    }

    /** acpi_nfit_add_dimm reads the NVDIMM's control region without checking it: Linux would oops. */
    @Test
    void nvdimmWithoutControlRegion() {
        Nfit nfit = NfitParser.parse(table(pmem(1, 0x100000000L, 1 << 20), new MemoryMap(0x21, 0, 0, 1, 0, 1 << 20, 0, 0, 0, 1, 0, 0)));
        NfitException e = assertThrows(NfitException.class,
                () -> new NfitPlatform(nfit, List.of(Region.Backing.file(Path.of("r0"), true)), List.of()));
        assertEquals("NFIT offset 0x60: NVDIMM handle 0x21 has no control region: its memory device maps name control region "
                + "index 0 (Linux's acpi_nfit_add_dimm needs one)", e.getMessage());
    }

    private static Subtable.ControlRegion dcr(int index) {
        return new Subtable.ControlRegion(index, 0x8086, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0x123456, 0x301, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void overlappingSpaRanges() {
        byte[] t = table(pmem(1, 0x100000000L, 2 << 20), pmem(2, 0x100100000L, 2 << 20));
        rejects(t, FIRST + SpaRange.LENGTH, "SPA range index 2 [0x100100000-0x1002fffff] overlaps SPA range index 1 "
                + "[0x100000000-0x1001fffff] at offset 0x28");
        // Touching ranges are fine.
        assertEquals(2, NfitParser.parse(table(pmem(1, 0x100000000L, 1 << 20), pmem(2, 0x100100000L, 1 << 20)))
                .all(SpaRange.class).size());
    }

    /** acpi_nfit_register_region skips a range of length 0; every other range still becomes a region. */
    @Test
    void spaRangeOfLengthZeroIsSkippedWithAWarning() {
        Nfit nfit = NfitParser.parse(table(pmem(1, 0x100000000L, 1 << 20), pmem(2, 0x100000000L, 0), pmem(3, 0x200000000L, 1 << 20)));
        assertEquals(List.of(String.format("offset 0x%x: SPA range index 2 has length 0; skipped", FIRST + SpaRange.LENGTH)),
                nfit.warnings());
        NfitPlatform p = new NfitPlatform(nfit, List.of(Region.Backing.file(Path.of("r0"), true),
                Region.Backing.file(Path.of("r1"), true)), List.of());
        assertEquals(List.of(0x100000000L, 0x200000000L), p.regions().stream().map(Region::spaStart).toList());
        assertEquals(List.of("region0", "region1"), p.regions().stream().map(Region::name).toList());
        String dump = NfitDump.dump(nfit);
        assertTrue(dump.contains("    SPA range 2: Persistent Memory, empty (skipped)\n"), dump);
        assertTrue(dump.contains("    Warning: offset 0x60: SPA range index 2 has length 0; skipped\n"), dump);
    }

    /** Structural damage stays a refusal, whether or not an empty range is around. */
    @Test
    void anEmptyRangeDoesNotHideADuplicateIndex() {
        rejects(table(pmem(2, 0x100000000L, 0), pmem(2, 0x200000000L, 1 << 20)), FIRST + SpaRange.LENGTH,
                "duplicate SPA range index 2 (already used by the SPA range at offset 0x28)");
    }

    @Test
    void spaRangeWrappingTheAddressSpace() {
        rejects(table(pmem(1, 0xFFFF_FFFF_FFF0_0000L, 2 << 20)), FIRST, "wraps past the top of the address space");
    }

    @Test
    void duplicateRangeIndexes() {
        rejects(table(pmem(3, 0x100000000L, 1 << 20), pmem(3, 0x200000000L, 1 << 20)), FIRST + SpaRange.LENGTH,
                "duplicate SPA range index 3 (already used by the SPA range at offset 0x28)");
    }

    @Test
    void locationCookieFormIsRead() {
        SpaRange withCookie = new SpaRange(1, SpaRange.FLAG_LOCATION_COOKIE, 0, 0, RangeType.PERSISTENT_MEMORY.guid(),
                0x100000000L, 1 << 20, 0x8008, 0x1122334455667788L);
        Nfit nfit = NfitParser.parse(table(withCookie));
        assertEquals(64, nfit.entries().getFirst().length());
        assertEquals(withCookie, nfit.subtables().getFirst());
    }

    @Test
    void regionsNeedBackingsAndWholePages() {
        Nfit nfit = NfitParser.parse(good());
        NfitException missing = assertThrows(NfitException.class, () -> new NfitPlatform(nfit, List.of(), List.of()));
        assertTrue(missing.getMessage().contains("the table has 3 regions (persistent or volatile SPA ranges) but 0 backings"),
                missing.getMessage());
        NfitException anonymous = assertThrows(NfitException.class, () -> new NfitPlatform(nfit,
                List.of(Region.Backing.anonymous(), Region.Backing.anonymous(), Region.Backing.anonymous()), List.of()));
        assertTrue(anonymous.getMessage().contains("region0 (SPA range index 2, persistent memory, 64M) needs a backing file"),
                anonymous.getMessage());
        Nfit odd = NfitParser.parse(table(pmem(1, 0x100000000L, 4096 + 512)));
        NfitException pages = assertThrows(NfitException.class,
                () -> new NfitPlatform(odd, List.of(Region.Backing.file(Path.of("/tmp/x"), true)), List.of()));
        assertEquals(FIRST, pages.offset());
        assertTrue(pages.reason().contains("is not aligned to the 4096-byte page"), pages.getMessage());
    }

    /** Random tables with a valid header and checksum: each parses or is rejected cleanly, none hangs. */
    @Test
    void randomTablesNeverHangOrCrash() {
        Random random = new Random(42);
        byte[] good = good();
        int parsed = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] t;
            if (i % 2 == 0) {
                t = new byte[FIRST + random.nextInt(300)];
                random.nextBytes(t);
                System.arraycopy(good, 0, t, 0, FIRST);
            } else {
                t = good.clone();
                for (int k = 0; k < 1 + random.nextInt(6); k++) t[FIRST + random.nextInt(t.length - FIRST)] = (byte) random.nextInt();
            }
            ByteBuffer.wrap(t).order(ByteOrder.LITTLE_ENDIAN).putInt(4, t.length);
            fixChecksum(t);
            try {
                Nfit nfit = NfitParser.parse(t);
                NfitDump.dump(nfit);
                parsed++;
            } catch (NfitException expected) {
                assertTrue(expected.offset() >= 0 && expected.offset() < t.length, expected.getMessage());
            }
        }
        assertTrue(parsed > 0, "some mutated tables are still valid");
    }
}
