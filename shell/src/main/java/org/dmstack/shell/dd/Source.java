package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;

/** Where dd reads from (if=). */
interface Source extends AutoCloseable {
    /** Reads up to dst.byteSize() bytes at pos; 0 at the end. */
    long read(long pos, MemorySegment dst) throws DdError;

    /** Bytes available, or -1 when endless. */
    long size();

    @Override
    default void close() {}
}
