package org.dmstack.block;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * What a driver whose data is memory and has no volatile cache (brd) may offer beside bios: fresh
 * memory of its own for a range, for a writer that fills it in place and so needs no buffer of its
 * own (the NBD export reads a WRITE's payload from the socket straight into it, where the kernel
 * copies it anyway). The range keeps its data while the memory is filled; the writer then
 * {@linkplain Staged#commit commits} it, and it is the range's data at once, as if a write bio had
 * completed; or {@linkplain Staged#abort aborts}, and nothing was written. So a writer that fails
 * half-way (a client gone in the middle of its payload) changes nothing. A driver that cannot
 * promise this offers none, and writers use bios.
 */
@ConsumerType
public interface InPlaceWrite {
    /**
     * Hands fresh memory for the {@code bytes} bytes from byte {@code offset} to {@code into}, in
     * order, for the caller to fill; null, with nothing handed over, when it cannot now (the
     * writer then sends a bio). Must not wait for I/O.
     */
    Staged stage(long offset, long bytes, Consumer<MemorySegment> into);

    /** A staged write: ended by one {@link #commit} that succeeds, or by {@link #abort}. */
    interface Staged {
        /**
         * Makes the filled memory the range's data, durable as a completed write; false, having
         * changed nothing, when it cannot (the device was withdrawn meanwhile): the memory then
         * stays the caller's to copy from (to send a bio instead) until {@link #abort}.
         */
        boolean commit();

        /** Drops the staged memory; the range keeps its data. Does nothing after a commit. */
        void abort();
    }
}
