package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;

/** Where dd writes to (of=). */
interface Sink extends AutoCloseable {
    void write(long pos, MemorySegment src) throws DdError;

    /** How many bytes fit in all (Long.MAX_VALUE when it grows). */
    long limit();

    /** Makes what was written durable (conv=fsync, oflag=sync). */
    void sync() throws DdError;

    @Override
    default void close() {}
}
