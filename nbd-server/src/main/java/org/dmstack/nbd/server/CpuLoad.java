package org.dmstack.nbd.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a CPU is free: no more threads running than there are CPUs, the caller included, by the
 * running count of /proc/loadavg, read at most every 10 ms. Busy polling starts only then
 * ({@link BusyPoll}), and only when it is not does the reader hand large READ replies to a client
 * on another host to its sender ({@link Replies}).
 */
final class CpuLoad {
    static final int CPUS = Runtime.getRuntime().availableProcessors();
    private static final Path LOADAVG = Path.of("/proc/loadavg");
    private static final long CHECK_NANOS = 10_000_000;
    private static volatile long checkedAt = System.nanoTime() - CHECK_NANOS;
    private static volatile boolean lastIdle = true;

    private CpuLoad() {}

    /** Whether no more threads run than there are CPUs, as /proc/loadavg said at most 10 ms ago; true where it cannot tell. */
    static boolean idle() {
        long now = System.nanoTime();
        if (now - checkedAt < CHECK_NANOS) return lastIdle;
        checkedAt = now;
        boolean idle = true;
        try {
            // "0.20 0.18 0.12 1/80 11206": the fourth field is running/all.
            String[] fields = Files.readString(LOADAVG).split(" ");
            idle = Integer.parseInt(fields[3].substring(0, fields[3].indexOf('/'))) <= CPUS;
        } catch (IOException | RuntimeException e) {
            // not Linux, or another format: as if a CPU were free
        }
        lastIdle = idle;
        return idle;
    }
}
