package org.dmstack.nfit;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A parsed NFIT: the ACPI table header, the 4 reserved bytes and the subtables in table order,
 * each with the offset and length it had in the table. Made by {@link NfitParser}; written by
 * {@link NfitWriter}.
 *
 * @param warnings what the parser skipped (unknown subtable types, trailing bytes, empty SPA
 *     ranges, memory-device maps naming no range of the table), as sentences
 */
public record Nfit(Header header, long reserved, List<Entry> entries, List<String> warnings) {
    /** Size of the ACPI table header. */
    public static final int ACPI_HEADER_LENGTH = 36;
    /** Size of the NFIT header: the ACPI header plus 4 reserved bytes; subtables start here. */
    public static final int HEADER_LENGTH = 40;
    public static final String SIGNATURE = "NFIT";

    public Nfit {
        Objects.requireNonNull(header, "header");
        entries = List.copyOf(entries);
        warnings = List.copyOf(warnings);
    }

    /**
     * The standard ACPI table header (36 bytes).
     *
     * @param aslCompilerId the "creator ID" of the ACPI spec; iasl calls it the ASL compiler ID
     */
    public record Header(String signature, long length, int revision, int checksum, String oemId,
            String oemTableId, long oemRevision, String aslCompilerId, long aslCompilerRevision) {}

    /** A subtable and where it was in the table. */
    public record Entry(int offset, int length, Subtable subtable) {}

    /** The subtables, without their positions. */
    public List<Subtable> subtables() {
        return entries.stream().map(Entry::subtable).toList();
    }

    /** The subtables of one kind, in table order. */
    public <T extends Subtable> List<T> all(Class<T> kind) {
        return entries.stream().map(Entry::subtable).filter(kind::isInstance).map(kind::cast).toList();
    }

    /** The entries of one kind, in table order. */
    public List<Entry> entriesOf(Class<? extends Subtable> kind) {
        return entries.stream().filter(e -> kind.isInstance(e.subtable())).toList();
    }

    /**
     * The SPA ranges that become regions, in table order: of a region kind ({@link
     * RangeType#isRegion()}), not empty, and with a range index other than 0 unless virtual (Linux's
     * acpi_nfit_register_region skips the others).
     */
    public List<Subtable.SpaRange> regionRanges() {
        return all(Subtable.SpaRange.class).stream().filter(s -> s.rangeType().isRegion() && s.length() != 0
                && (s.rangeIndex() != 0 || s.rangeType().isVirtual())).toList();
    }

    /**
     * The memory-device maps Linux uses, in table order: those naming no SPA range (index 0) or one
     * the table has; a map naming an index no range has is skipped.
     */
    public List<Subtable.MemoryMap> memoryMaps() {
        return all(Subtable.MemoryMap.class).stream()
                .filter(m -> m.rangeIndex() == 0 || spaRange(m.rangeIndex()).isPresent())
                .toList();
    }

    public Optional<Subtable.SpaRange> spaRange(int rangeIndex) {
        return all(Subtable.SpaRange.class).stream().filter(s -> s.rangeIndex() == rangeIndex).findFirst();
    }

    public Optional<Subtable.ControlRegion> controlRegion(int regionIndex) {
        return all(Subtable.ControlRegion.class).stream().filter(c -> c.regionIndex() == regionIndex).findFirst();
    }

    /** The platform capabilities subtable, if the table has one. */
    public Optional<Subtable.Capabilities> capabilities() {
        return all(Subtable.Capabilities.class).stream().findFirst();
    }
}
