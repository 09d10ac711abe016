package org.dmstack.block;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * What a driver whose data is memory (brd) may offer beside bios: its own memory of a range, for a
 * reader that hands the bytes on at once and so needs no copy of them (the NBD export writes a
 * READ reply straight from it to the socket, where the kernel copies it anyway). The memory is
 * pinned until {@link #unpin}: the driver neither reuses it for other data nor gives it back
 * meanwhile, whatever is discarded or torn down; writes racing the reader may land in it, as they
 * would race a read bio. A driver that cannot promise this offers none, and readers use bios.
 */
@ConsumerType
public interface InPlaceRead {
    /**
     * Hands the memory of {@code bytes} bytes from byte {@code offset} to {@code into}, in order,
     * and pins it; false, with nothing pinned and nothing handed over, when it cannot now (the
     * reader then sends a bio). Must not wait for I/O.
     */
    boolean pin(long offset, long bytes, Consumer<MemorySegment> into);

    /** Gives back one successful {@link #pin}, once the reader no longer uses what it handed over. */
    void unpin();
}
