package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The raw copy a stack is measured against moves the stack's own bytes: what it writes, the stack
 * reads back at the same position, and what the stack writes, it reads, in every way of copying.
 */
class RawCopyTest {
    @ParameterizedTest
    @CsvSource({"DIRECT, 4096", "LINEAR, 65536", "STRIPE2, 4096", "STRIPE2, 1048576", "STRIPE4, 1048576"})
    void movesTheSameBytesInTheSameMemoryAsTheStack(Stacks.Layer layer, int size) {
        long region = Math.max(4L << 20, 8L * size);
        try (Stacks.Dax stack = new Stacks.Dax(layer, region, false)) {
            RawCopy raw = new RawCopy(RawCopy.Kind.RAW, stack.dax, region, size);
            int op = 0;
            for (RawCopy.Kind kind : RawCopy.Kind.values()) {
                long pos = (long) op++ * size * 2 + size; // a different place for each kind
                byte[] written = pattern(size, kind.ordinal() + 1);
                assertEquals(size, raw.as(kind).write(pos, MemorySegment.ofArray(written), IovIter.iovec(written), false));
                byte[] viaStack = new byte[size];
                assertEquals(size, DaxBench.read(stack, pos, MemorySegment.ofArray(viaStack), IovIter.iovec(viaStack)));
                assertArrayEquals(written, viaStack, kind + " write, read through " + layer);

                byte[] fromStack = pattern(size, kind.ordinal() + 7);
                assertEquals(size, DaxBench.write(stack, pos + size, MemorySegment.ofArray(fromStack), IovIter.iovec(fromStack), false));
                byte[] viaRaw = new byte[size];
                IovIter iter = IovIter.iovec(viaRaw);
                assertEquals(size, raw.as(kind).read(pos + size, MemorySegment.ofArray(viaRaw), iter));
                assertArrayEquals(fromStack, viaRaw, layer + " write, read by " + kind);
                assertEquals(size, iter.count(), "the iterator is rewound");
            }
        }
    }

    private static byte[] pattern(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) b[i] = (byte) (i * 31 + seed + (i >> 12));
        return b;
    }
}
