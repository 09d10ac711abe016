package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;

/** /dev/null: takes everything, keeps nothing. */
final class NullSink implements Sink {
    @Override
    public void write(long pos, MemorySegment src) {}

    @Override
    public long limit() {
        return Long.MAX_VALUE;
    }

    @Override
    public void sync() {}
}
