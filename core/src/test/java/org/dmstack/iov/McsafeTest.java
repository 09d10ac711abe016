package org.dmstack.iov;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.Channels;
import java.util.Arrays;
import java.util.function.Function;
import java.util.stream.Stream;
import org.dmstack.memory.MachineCheckError;
import org.dmstack.memory.Poison;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * copy_to_iter_mcsafe stops at the first poisoned cache line and delivers exactly the bytes before
 * it, into every kind of iterator — pipes included (the seed's fix: without it every splice read
 * of a DAX file failed).
 */
class McsafeTest {
    private static final int SIZE = 5 * 4096;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment source = arena.allocate(SIZE, 4096);

    McsafeTest() {
        for (int i = 0; i < SIZE; i++) source.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13 + 1));
    }

    @AfterEach
    void clean() {
        Poison.clearAll(source);
        arena.close();
    }

    /** An iterator kind, and how to get back the bytes that were delivered into it. */
    record Sink(IovIter iter, Function<Long, byte[]> delivered) {}

    static Stream<Arguments> kindsAndOffsets() {
        String[] kinds = {"IOVEC", "KVEC", "BVEC", "PIPE"};
        long[] poisonAt = {0, 1, 63, 64, 100, 4095, 4096, 4096 + 64 * 3 + 5, 3 * 4096 + 17, SIZE - 1};
        return Arrays.stream(kinds).flatMap(k -> Arrays.stream(poisonAt).mapToObj(p -> Arguments.of(k, p)));
    }

    private static Sink sink(String kind) {
        switch (kind) {
            case "IOVEC": {
                byte[] a = new byte[3000], b = new byte[SIZE - 3000];
                return new Sink(IovIter.iovec(a, b), n -> {
                    byte[] all = new byte[SIZE];
                    System.arraycopy(a, 0, all, 0, a.length);
                    System.arraycopy(b, 0, all, a.length, b.length);
                    return Arrays.copyOf(all, n.intValue());
                });
            }
            case "KVEC": {
                MemorySegment k = Arena.ofAuto().allocate(SIZE);
                return new Sink(IovIter.kvec(k.asSlice(0, 100), k.asSlice(100, SIZE - 100)), n -> k.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            }
            case "BVEC": {
                MemorySegment[] pages = new MemorySegment[6];
                BioVec[] vecs = new BioVec[6];
                for (int i = 0; i < 6; i++) {
                    pages[i] = Arena.ofAuto().allocate(4096);
                    vecs[i] = i == 0 ? new BioVec(pages[0], 512, 3584) : new BioVec(pages[i], 0, i == 5 ? 512 : 4096);
                }
                return new Sink(IovIter.bvec(vecs), n -> {
                    byte[] all = new byte[SIZE];
                    int at = 0;
                    for (BioVec v : vecs) {
                        byte[] part = v.page().asSlice(v.offset(), v.length()).toArray(ValueLayout.JAVA_BYTE);
                        System.arraycopy(part, 0, all, at, part.length);
                        at += part.length;
                    }
                    return Arrays.copyOf(all, n.intValue());
                });
            }
            default: {
                Pipe pipe = new Pipe(16);
                return new Sink(IovIter.pipe(pipe, SIZE), n -> {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    try {
                        pipe.drainTo(Channels.newChannel(out));
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    return out.toByteArray();
                });
            }
        }
    }

    @ParameterizedTest(name = "{0}, poison at byte {1}")
    @MethodSource("kindsAndOffsets")
    void shortCountAtTheFirstPoisonedCacheLine(String kind, long poisonAt) {
        Poison.inject(source, poisonAt, 1);
        Sink sink = sink(kind);
        long expected = poisonAt & ~63L;
        long copied = sink.iter().copyToIterMcsafe(source, SIZE);
        assertEquals(expected, copied, "stops at the start of the poisoned cache line");
        assertEquals(SIZE - expected, sink.iter().count(), "the iterator advanced by exactly the bytes copied");
        byte[] got = sink.delivered().apply(copied);
        assertEquals(expected, got.length);
        assertArrayEquals(source.asSlice(0, expected).toArray(ValueLayout.JAVA_BYTE), got);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"IOVEC", "KVEC", "BVEC", "PIPE"})
    void aCleanSourceIsCopiedWhole(String kind) {
        Sink sink = sink(kind);
        assertEquals(SIZE, sink.iter().copyToIterMcsafe(source, SIZE));
        assertArrayEquals(source.toArray(ValueLayout.JAVA_BYTE), sink.delivered().apply((long) SIZE));
    }

    @Test
    void aPlainCopyOfPoisonIsAMachineCheck() {
        Poison.inject(source, 4096 + 70, 1);
        IovIter iter = IovIter.kvec(Arena.ofAuto().allocate(SIZE));
        MachineCheckError e = assertThrows(MachineCheckError.class, () -> iter.copyToIter(source, SIZE));
        assertEquals(String.format("Machine check: read of poisoned memory at 0x%x", source.address() + 4096 + 64), e.getMessage());
    }

    @Test
    void aPipeTakesOnlyWhatFitsAndStartsAfterTheLastShortCopy() {
        Pipe pipe = new Pipe(2);
        IovIter iter = IovIter.pipe(pipe, SIZE);
        assertEquals(2 * 4096, iter.count());
        Poison.inject(source, 100, 1);
        assertEquals(64, iter.copyToIterMcsafe(source, SIZE));
        assertEquals(1, pipe.buffers());
        assertEquals(64, pipe.available());
    }

    @Test
    void advanceAndRevert() {
        byte[] a = new byte[10], b = new byte[10];
        IovIter iter = IovIter.iovec(a, b);
        iter.advance(15);
        assertEquals(5, iter.count());
        iter.revert(12);
        assertEquals(17, iter.count());
        assertEquals(17, iter.copyToIter(source, 100));
        assertEquals(source.get(ValueLayout.JAVA_BYTE, 0), a[3]);
        assertEquals(source.get(ValueLayout.JAVA_BYTE, 7), b[0]);
    }
}
