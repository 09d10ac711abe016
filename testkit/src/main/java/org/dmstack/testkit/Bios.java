package org.dmstack.testkit;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;

/** Small things every target test needs: submit a bio and wait for it, and data to write. */
public final class Bios {
    /** A safety net so a bio that never ends fails the test instead of hanging the build; not a timing assertion. */
    private static final long TIMEOUT_SECONDS = 20;

    private Bios() {}

    /** Submits {@code bio} to {@code device} and returns how it ended. @throws AssertionError when it never ends */
    public static BlkStatus submit(BlockDevice device, Bio bio) {
        device.submit(bio);
        try {
            return bio.completion().toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(bio + " to " + device.name() + " did not complete within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    /** {@code sectors} sectors of the byte {@code value}, to write and to compare with. */
    public static MemorySegment filled(long sectors, int value) {
        MemorySegment m = MemorySegment.ofArray(new byte[(int) (sectors * 512)]);
        m.fill((byte) value);
        return m;
    }

    /** {@code sectors} sectors of a pattern that differs from byte to byte and from seed to seed. */
    public static MemorySegment pattern(long sectors, int seed) {
        MemorySegment m = MemorySegment.ofArray(new byte[(int) (sectors * 512)]);
        for (long i = 0; i < m.byteSize(); i++) m.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        return m;
    }
}
