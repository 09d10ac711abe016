package org.dmstack.shell.dd;

import java.lang.foreign.MemorySegment;

/** /dev/zero: endless zeros. */
final class ZeroSource implements Source {
    @Override
    public long read(long pos, MemorySegment dst) {
        dst.fill((byte) 0);
        return dst.byteSize();
    }

    @Override
    public long size() {
        return -1;
    }
}
