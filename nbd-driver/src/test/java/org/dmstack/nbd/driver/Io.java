package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/** Waiting for devices and bios in the tests. */
final class Io {
    /** A safety net so a test that waits for nothing fails instead of hanging; not a timing assertion. */
    static final Duration LIMIT = Duration.ofSeconds(30);

    private Io() {}

    /** Waits for {@code name} to appear in the registry. */
    static BlockDevice await(BlockDeviceRegistry registry, String name) throws InterruptedException {
        long limit = System.nanoTime() + LIMIT.toNanos();
        while (true) {
            BlockDevice d = registry.lookup(name);
            if (d != null) return d;
            if (System.nanoTime() > limit) fail(name + " did not appear");
            Thread.sleep(10);
        }
    }

    /** Waits for {@code device} to say why it has no connection (its first failed attempt), and returns that. */
    static String awaitLastError(NbdDevice device) throws InterruptedException {
        long limit = System.nanoTime() + LIMIT.toNanos();
        while (device.lastError().isEmpty()) {
            if (System.nanoTime() > limit) fail(device.name() + " never failed to connect");
            Thread.sleep(5);
        }
        return device.lastError();
    }

    static BlkStatus submit(BlockDevice device, Bio bio) {
        device.submit(bio);
        return await(bio);
    }

    /** How a submitted bio ended. */
    static BlkStatus await(Bio bio) {
        try {
            return bio.completion().toCompletableFuture().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(bio + " did not complete", e);
        }
    }

    static byte[] read(BlockDevice device, long sector, int bytes) {
        byte[] b = new byte[bytes];
        BlkStatus s = submit(device, Bio.read(sector, MemorySegment.ofArray(b)));
        if (!s.isOk()) fail("read of " + device.name() + " at " + sector + ": " + s);
        return b;
    }

    static byte[] pattern(int bytes, int seed) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) b[i] = (byte) (i * 31 + seed + (i >> 9));
        return b;
    }
}
