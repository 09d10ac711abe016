package org.dmstack.nfit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.dmstack.nfit.Subtable.Capabilities;
import org.dmstack.nfit.Subtable.ControlRegion;
import org.dmstack.nfit.Subtable.DataRegion;
import org.dmstack.nfit.Subtable.FlushHint;
import org.dmstack.nfit.Subtable.Interleave;
import org.dmstack.nfit.Subtable.MemoryMap;
import org.dmstack.nfit.Subtable.Smbios;
import org.dmstack.nfit.Subtable.SpaRange;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The parser and writer checked against an independent implementation, ACPICA's iasl: tables
 * compiled by iasl from source must parse to exactly the fields {@code iasl -d} prints, and
 * tables our emulated-platform writer makes must disassemble without errors or warnings, show the
 * same fields, compile back to the same bytes, and parse back to the same platform. iasl runs at
 * test time (no frozen fixtures); without it these tests fail, saying to install acpica-tools.
 */
class IaslTest {
    @TempDir
    Path dir;

    /** iasl 20200925 prints these fields' offsets wrongly (lines 4 bytes late; SMBIOS data relative). */
    private static final Set<String> IASL_OFFSET_QUIRKS = Set.of("Line Offset", "SMBIOS Table Entries");
    /** Names older or newer iasl versions use for the same field. */
    private static final Map<String, String> ALIASES = Map.of("Address Range GUID", "Region Type GUID");

    @Test
    void iaslsOwnNfitTemplateParsesToTheFieldsIaslPrints() throws Exception {
        Iasl iasl = Iasl.require();
        String template = iasl.template(dir);
        byte[] table = iasl.compile(dir, "template", template);
        Nfit nfit = assertSameFieldsAsIasl(iasl, "template", table);
        // Every subtable type is in ACPICA's template.
        for (Class<? extends Subtable> kind : List.of(SpaRange.class, MemoryMap.class, Interleave.class, Smbios.class,
                ControlRegion.class, DataRegion.class, FlushHint.class, Capabilities.class)) {
            assertFalse(nfit.all(kind).isEmpty(), "template has a " + kind.getSimpleName());
        }
        assertTrue(nfit.warnings().isEmpty(), nfit.warnings().toString());
        // Its one SPA range is a block data window and its one map names it: Linux's __nfit_mem_init
        // makes no NVDIMM of such a map, and acpi_nfit_register_regions no region of such a range.
        NfitPlatform platform = new NfitPlatform(nfit, List.of(), List.of());
        assertEquals(List.of(), platform.dimms());
        assertEquals("", NdctlJson.list(platform, NamespaceInfo.NONE, "-DR"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"nfit-template.asl", "nfit-two-pmem-volatile.asl", "nfit-interleaved.asl"})
    void checkedInSourcesParseToTheFieldsIaslPrints(String resource) throws Exception {
        Iasl iasl = Iasl.require();
        byte[] table = iasl.compile(dir, "t", resource(resource));
        assertSameFieldsAsIasl(iasl, "t", table);
    }

    @Test
    void twoPmemAndVolatileTableGivesItsRegions() throws Exception {
        Iasl iasl = Iasl.require();
        Nfit nfit = NfitParser.parse(iasl.compile(dir, "t", resource("nfit-two-pmem-volatile.asl")));
        assertEquals("DMSTCK", nfit.header().oemId());
        assertEquals(RangeType.CONTROL_REGION, nfit.spaRange(4).orElseThrow().rangeType());
        List<Region.Backing> backings = List.of(Region.Backing.file(dir.resolve("a"), true),
                Region.Backing.file(dir.resolve("b"), true), Region.Backing.anonymous());
        NfitPlatform p = new NfitPlatform(nfit, backings, List.of(new NfitPlatform.SpaPoison(0x104000200L, 0x400)));
        List<Region> regions = p.regions();
        assertEquals(3, regions.size(), "the control-region SPA range is not a region");
        assertEquals(List.of(64L << 20, 128L << 20, 32L << 20), regions.stream().map(Region::size).toList());
        assertEquals(List.of(Region.Type.PERSISTENT, Region.Type.PERSISTENT, Region.Type.VOLATILE),
                regions.stream().map(Region::type).toList());
        for (Region r : regions) {
            assertEquals(Region.PersistenceDomain.CPU_CACHE, r.persistenceDomain());
            assertFalse(r.needsCacheWriteback(), r.name() + ": CPU caches are flushed on power loss");
        }
        assertEquals(List.of(0xFED00000L, 0xFED00040L), regions.get(0).flushHints());
        assertEquals(List.of(new Region.PoisonRange(0x200, 0x400)), regions.get(1).poison());
        assertEquals(new Region.Mapping("nmem1", 0x111, 0x200000, 128L << 20, 0), regions.get(1).mappings().getFirst());
        assertEquals(0, regions.get(2).isetId(), "volatile regions have no interleave set");
        assertEquals("8680-0a-1915-78563412", p.dimms().get(0).uniqueId(), "manufacturing fields valid");
        assertEquals("8680-57341200", p.dimms().get(1).uniqueId());
        assertTrue(p.dimms().get(0).has(MemoryMap.FLAG_HEALTH_OBSERVED));
    }

    @Test
    void interleavedTableGivesOneRegionOverTwoDimms() throws Exception {
        Iasl iasl = Iasl.require();
        Nfit nfit = NfitParser.parse(iasl.compile(dir, "t", resource("nfit-interleaved.asl")));
        NfitPlatform p = new NfitPlatform(nfit, List.of(Region.Backing.file(dir.resolve("pmem"), true)), List.of());
        Region r = p.regions().getFirst();
        assertEquals(256L << 20, r.size());
        assertEquals(0x240000000L, r.spaStart());
        assertEquals(2, r.interleaveWays());
        assertEquals(List.of(new Region.Mapping("nmem0", 0x1001, 0x1000000, 128L << 20, 0),
                new Region.Mapping("nmem1", 0x1011, 0x1000000, 128L << 20, 1)), r.mappings());
        // Linux's cookie1: Fletcher-64 over {0, serial 0xABCDEF, 0x1000, serial 0xABCDF0} (see NfitPlatform).
        assertEquals(0x055eaf7a0157abdfL, r.isetId());
        assertEquals(Region.PersistenceDomain.MEMORY_CONTROLLER, r.persistenceDomain());
        assertTrue(r.needsCacheWriteback());
        assertEquals(List.of(0L, 1L), nfit.all(Interleave.class).getFirst().lineOffsets());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "pmem:64M:P0,pmem:128M:P1,volatile:32M|cpu|0x100000200:512",
        "pmem:16M:P0|mem-ctrl|region0:4K:8K",
        "volatile:4K||",
        "pmem:1G:P0,pmem:1G:P1,pmem:1G:P2,volatile:2M,volatile:8M:P4|none|"})
    void emulatedPlatformTablesDisassembleCleanlyAndRoundTrip(String spec) throws Exception {
        Iasl iasl = Iasl.require();
        String[] parts = spec.split("\\|", -1);
        List<String> dimms = Arrays.stream(parts[0].split(",")).map(s -> s.replace(":P", ":" + dir + "/pmem")).toList();
        EmulatedPlatform platform = EmulatedPlatform.fromConfig(dimms, parts[1],
                parts[2].isEmpty() ? List.of() : List.of(parts[2]));
        byte[] table = platform.toBinary();

        Nfit parsed = assertSameFieldsAsIasl(iasl, "emulated", table);

        // iasl compiles its own disassembly back to our bytes (it stamps its own compiler id and revision).
        byte[] recompiled = iasl.compile(dir, "recompiled", new String(
                Files.readAllBytes(dir.resolve("emulated.dsl")), StandardCharsets.ISO_8859_1));
        assertEquals(table.length, recompiled.length);
        byte[] a = table.clone();
        byte[] b = recompiled.clone();
        for (int i : new int[] {9, 28, 29, 30, 31, 32, 33, 34, 35}) a[i] = b[i] = 0;
        assertArrayEquals(a, b, "iasl rebuilt different bytes from the disassembly of our table");

        List<Path> backings = platform.nvdimms().stream().map(EmulatedPlatform.Nvdimm::backing).toList();
        assertEquals(platform, EmulatedPlatform.describe(parsed, backings, platform.poison()));
        assertEquals(platform.subtables(), parsed.subtables());
    }

    /**
     * Malformed tables as iasl writes them (it computes lengths, counts and the checksum itself, so
     * the damage is in what the fields say): each gets Linux 6.1's verdict.
     */
    @Test
    void iaslCompiledMalformedTablesGetLinuxsVerdicts() throws Exception {
        Iasl iasl = Iasl.require();
        String good = resource("nfit-two-pmem-volatile.asl");

        // __nfit_mem_init: "SPA %d missing DCR %d" fails the whole table.
        byte[] missingDcr = iasl.compile(dir, "dcr", good.replaceFirst("Control Region Index : 0005", "Control Region Index : 0009"));
        NfitException e = assertThrows(NfitException.class, () -> NfitParser.parse(missingDcr));
        assertEquals("NFIT offset 0x108: SPA 1 missing DCR 9: the memory device map (handle 0x101) names NVDIMM control "
                + "region index 9, but no control region has that index", e.getMessage());

        // acpi_nfit_register_region skips index 0 ("detected invalid spa index"); its map then names no range.
        Nfit indexZero = NfitParser.parse(iasl.compile(dir, "zero", good.replaceFirst("Range Index : 0001", "Range Index : 0000")));
        assertEquals(List.of("offset 0x28: SPA range index 0 is invalid (detected invalid spa index); skipped",
                "offset 0x108: memory device map (handle 0x101) names SPA range index 1, but no SPA range has that index; "
                        + "skipped"), indexZero.warnings());
        assertEquals(2, indexZero.regionRanges().size());

        // Two ranges with one index would alias one memdev in two regions: refused.
        byte[] duplicate = iasl.compile(dir, "dup", good.replaceFirst("Range Index : 0002", "Range Index : 0001"));
        assertEquals("NFIT offset 0x60: duplicate SPA range index 1 (already used by the SPA range at offset 0x28)",
                assertThrows(NfitException.class, () -> NfitParser.parse(duplicate)).getMessage());

        // A checksum broken after compiling: ACPICA warns, the table is used.
        byte[] table = iasl.compile(dir, "sum", good);
        int right = table[9] & 0xFF;
        table[9] = (byte) (right ^ 0xFF);
        assertEquals(List.of(String.format("offset 0x9: Incorrect checksum in table [NFIT] - 0x%02X, should be 0x%02X",
                right ^ 0xFF, right)), NfitParser.parse(table).warnings());
    }

    /** Parses {@code table}, dumps it, disassembles it with iasl and compares every field. */
    private Nfit assertSameFieldsAsIasl(Iasl iasl, String name, byte[] table) throws Exception {
        Nfit nfit = NfitParser.parse(table);
        List<Iasl.Field> theirs = Iasl.fields(iasl.disassemble(dir, name, table));
        List<Iasl.Field> ours = Iasl.fields(NfitDump.dump(nfit));
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < Math.max(theirs.size(), ours.size()); i++) {
            Iasl.Field t = i < theirs.size() ? theirs.get(i) : null;
            Iasl.Field o = i < ours.size() ? ours.get(i) : null;
            if (t == null || o == null || !same(t, o)) problems.add("#" + i + " iasl: " + t + "\n     ours: " + o);
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " fields differ from iasl -d (first: " + problems.getFirst() + ")\n"
                    + String.join("\n", problems.subList(0, Math.min(10, problems.size()))));
        }
        assertTrue(ours.size() > 20, "compared " + ours.size() + " fields");
        return nfit;
    }

    private static boolean same(Iasl.Field t, Iasl.Field o) {
        String tn = ALIASES.getOrDefault(t.name(), t.name());
        if (!tn.equals(o.name()) || t.length() != o.length()) return false;
        if (t.offset() != o.offset() && !IASL_OFFSET_QUIRKS.contains(tn)) return false;
        return t.value().equals(o.value()) || t.value().startsWith(o.value() + " [");
    }

    static String resource(String name) throws IOException {
        try (InputStream in = IaslTest.class.getResourceAsStream("/iasl/" + name)) {
            if (in == null) throw new IOException("missing test resource iasl/" + name);
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
