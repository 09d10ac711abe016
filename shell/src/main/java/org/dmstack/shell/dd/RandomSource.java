package org.dmstack.shell.dd;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/** /dev/urandom and /dev/random: endless pseudo-random bytes (test data, not secrets). */
final class RandomSource implements Source {
    private final SplittableRandom random = new SplittableRandom();

    @Override
    public long read(long pos, MemorySegment dst) {
        long n = dst.byteSize();
        for (long i = 0; i + 8 <= n; i += 8) dst.set(JAVA_LONG_UNALIGNED, i, random.nextLong());
        for (long i = n & ~7L; i < n; i++) dst.set(JAVA_BYTE, i, (byte) random.nextInt());
        return n;
    }

    @Override
    public long size() {
        return -1;
    }
}
