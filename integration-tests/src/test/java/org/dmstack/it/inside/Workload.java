package org.dmstack.it.inside;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/**
 * Several threads writing and reading 4 KiB blocks of one device, each thread on its own blocks,
 * with a model of what every block must hold: the last acknowledged write, exactly; after a write
 * that failed the block is undefined until the next acknowledged write. Every block carries its number and version in
 * every word, so a torn block is found. Driven through {@link Function}: "start", "mark",
 * "ops", "errors", "stall" (longest I/O in ms since "mark"), "lap" (longest I/O in ms since
 * "mark" or the last "lap", then starts a new lap), "latencies" (the distribution since "mark":
 * percentiles and maximum), "lastError", "stop", "verify" (returns "" when every block matches the
 * model).
 */
public final class Workload implements Function<String, Object> {
    private static final int BLOCK = 4096;

    private final BlockDevice device;
    private final int threads;
    private final long blocks;
    private final long[] acked;
    private final List<Set<Long>> uncertain = new ArrayList<>();
    private final AtomicLong ops = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong maxLatency = new AtomicLong();
    private final AtomicLong lapLatency = new AtomicLong();
    /** I/O latencies since "mark": 8 buckets per power of two of nanoseconds (12.5% resolution). */
    private final AtomicLongArray latencies = new AtomicLongArray(64 * 8);
    private final AtomicReference<String> lastError = new AtomicReference<>("");
    private final AtomicReference<String> problem = new AtomicReference<>("");
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean running;

    /** @param registry the BlockDeviceRegistry service; @param name the device ("dm-0") */
    public Workload(Object registry, String name, Integer threads) {
        this.device = ((BlockDeviceRegistry) registry).lookup(name);
        if (device == null) throw new IllegalArgumentException("no device " + name);
        this.threads = threads;
        this.blocks = device.sizeBytes() / BLOCK;
        this.acked = new long[(int) blocks];
        for (int i = 0; i < blocks; i++) uncertain.add(new HashSet<>());
    }

    @Override
    public Object apply(String command) {
        switch (command) {
            case "start" -> start();
            case "mark" -> {
                maxLatency.set(0);
                lapLatency.set(0);
                for (int i = 0; i < latencies.length(); i++) latencies.set(i, 0);
                return null;
            }
            case "latencies" -> {
                return distribution();
            }
            case "ops" -> {
                return ops.get();
            }
            case "errors" -> {
                return errors.get();
            }
            case "stall" -> {
                return maxLatency.get() / 1_000_000;
            }
            case "lap" -> {
                return lapLatency.getAndSet(0) / 1_000_000;
            }
            case "lastError" -> {
                return lastError.get();
            }
            case "stop" -> stop();
            case "verify" -> {
                return verify();
            }
            default -> throw new IllegalArgumentException(command);
        }
        return null;
    }

    private void start() {
        running = true;
        long per = blocks / threads;
        for (int t = 0; t < threads; t++) {
            long first = t * per, last = t == threads - 1 ? blocks : first + per;
            long seed = 1000 + t;
            Thread th = new Thread(() -> run(first, last, seed), "workload-" + t);
            th.setDaemon(true);
            workers.add(th);
            th.start();
        }
    }

    private void stop() {
        running = false;
        for (Thread t : workers) {
            try {
                t.join(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        workers.clear();
    }

    private void run(long first, long last, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(BLOCK, BLOCK);
            long version = 1;
            for (long b = first; b < last && running; b++) write(b, version++, buf);
            while (running) {
                long b = first + random.nextLong(last - first);
                if (random.nextBoolean()) write(b, version++, buf);
                else read(b, buf);
            }
        }
    }

    private BlkStatus io(Bio bio) {
        long start = System.nanoTime();
        device.submit(bio);
        BlkStatus s = bio.await();
        long took = System.nanoTime() - start;
        maxLatency.accumulateAndGet(took, Math::max);
        lapLatency.accumulateAndGet(took, Math::max);
        latencies.incrementAndGet(bucket(took));
        if (s.isOk()) ops.incrementAndGet();
        else {
            errors.incrementAndGet();
            lastError.set(s.toString());
        }
        return s;
    }

    private static int bucket(long nanos) {
        if (nanos < 8) return (int) Math.max(0, nanos);
        int exp = 63 - Long.numberOfLeadingZeros(nanos);
        return exp * 8 + (int) ((nanos >>> (exp - 3)) & 7);
    }

    /** The smallest latency a bucket holds. */
    private static long lowerBound(int bucket) {
        if (bucket < 8) return bucket;
        int exp = bucket / 8;
        return (8L + bucket % 8) << (exp - 3);
    }

    /** "p50 3.5 us, p99 40.0 us, p99.9 3.1 ms, max 53 ms (120000 I/Os)": each percentile to within 12.5%. */
    private String distribution() {
        // One snapshot: the threads go on counting while the percentiles are read, and ranks
        // taken from a total that grows under them came out below the percentile before.
        long[] counts = new long[latencies.length()];
        long total = 0;
        for (int i = 0; i < counts.length; i++) total += counts[i] = latencies.get(i);
        StringBuilder sb = new StringBuilder();
        for (double q : new double[] {0.5, 0.99, 0.999}) {
            long rank = (long) Math.ceil(q * total), seen = 0;
            int b = 0;
            while (b < counts.length - 1 && (seen += counts[b]) < rank) b++;
            sb.append(q == 0.5 ? "p50 " : q == 0.99 ? "p99 " : "p99.9 ").append(time(lowerBound(b))).append(", ");
        }
        return sb.append("max ").append(time(maxLatency.get())).append(" (").append(total).append(" I/Os)").toString();
    }

    private static String time(long nanos) {
        if (nanos < 1_000_000) return String.format(Locale.ROOT, "%.1f us", nanos / 1e3);
        return String.format(Locale.ROOT, nanos >= 10_000_000 ? "%.0f ms" : "%.1f ms", nanos / 1e6);
    }

    private void write(long b, long version, MemorySegment buf) {
        fill(buf, b, version);
        BlkStatus s = io(Bio.write(b * (BLOCK / 512), buf));
        synchronized (uncertain.get((int) b)) {
            if (s.isOk()) {
                acked[(int) b] = version;
                uncertain.get((int) b).clear();
            } else {
                uncertain.get((int) b).add(version);
            }
        }
    }

    private void read(long b, MemorySegment buf) {
        if (!io(Bio.read(b * (BLOCK / 512), buf)).isOk()) return;
        String p = check(b, buf);
        if (p != null) problem.compareAndSet("", p);
    }

    private String check(long b, MemorySegment buf) {
        synchronized (uncertain.get((int) b)) {
            long expected = acked[(int) b];
            long found = version(b, buf);
            if (found == expected) return null;
            if (found >= 0 && uncertain.get((int) b).contains(found)) {
                acked[(int) b] = found;
                uncertain.get((int) b).clear();
                return null;
            }
            // A write that failed leaves its block undefined (as in Linux) until the next acknowledged one.
            if (!uncertain.get((int) b).isEmpty()) return null;
            return "block " + b + ": expected version " + expected + (uncertain.get((int) b).isEmpty() ? "" : " or one of " + uncertain.get((int) b))
                    + ", found " + (found < 0 ? "a torn or foreign block" : "version " + found);
        }
    }

    /** The version the block holds, or -1 when its words disagree (torn) or it is not ours. */
    private static long version(long b, MemorySegment buf) {
        // A block never written reads as zeros: version 0 whatever its number. (Testing v == 0
        // here, as this once did, called every unwritten block but block 0 torn, and the run
        // failed whenever verify came before a thread's first pass had written all its blocks.)
        if (buf.get(ValueLayout.JAVA_LONG, 0) == 0) {
            for (long i = 0; i < BLOCK; i += 8) if (buf.get(ValueLayout.JAVA_LONG, i) != 0) return -1;
            return 0;
        }
        long v = buf.get(ValueLayout.JAVA_LONG, 0) - word(b, 0, 0);
        for (int j = 0; j < BLOCK / 8; j++) if (buf.get(ValueLayout.JAVA_LONG, j * 8L) != word(b, j, v)) return -1;
        return v;
    }

    private static long word(long b, int j, long version) {
        return (b << 40) + ((long) j << 28) + version;
    }

    private static void fill(MemorySegment buf, long b, long version) {
        for (int j = 0; j < BLOCK / 8; j++) buf.set(ValueLayout.JAVA_LONG, j * 8L, word(b, j, version));
    }

    private String verify() {
        stop();
        if (!problem.get().isEmpty()) return problem.get();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(BLOCK, BLOCK);
            for (long b = 0; b < blocks; b++) {
                BlkStatus s = io(Bio.read(b * (BLOCK / 512), buf));
                if (!s.isOk()) return "block " + b + ": read failed: " + s;
                String p = check(b, buf);
                if (p != null) return p;
            }
        }
        return "";
    }
}
