package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import org.dmstack.units.Units;

/**
 * The answer to direct_access: {@code kaddr} starts at the requested page and is
 * {@code pages} pages long; {@code pfn} is that page's frame number.
 */
public record DaxMapping(MemorySegment kaddr, long pfn, long pages) {
    public DaxMapping {
        if (pages < 1) throw new IllegalArgumentException("direct_access must give at least one page, not " + pages);
    }

    /** The same mapping limited to at most {@code maxPages} pages (dm clamps to its target). */
    public DaxMapping clamp(long maxPages) {
        if (maxPages >= pages) return this;
        return new DaxMapping(kaddr.asSlice(0, maxPages << Units.PAGE_SHIFT), pfn, maxPages);
    }
}
