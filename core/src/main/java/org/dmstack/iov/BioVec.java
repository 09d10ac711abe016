package org.dmstack.iov;

import java.lang.foreign.MemorySegment;

/** A piece of a page (Linux's struct bio_vec): the page, an offset in it and a length. */
public record BioVec(MemorySegment page, long offset, long length) {
    public BioVec {
        if (offset < 0 || length < 0 || offset + length > page.byteSize()) {
            throw new IllegalArgumentException("bio_vec " + offset + "+" + length + " outside a page of " + page.byteSize() + " bytes");
        }
    }
}
