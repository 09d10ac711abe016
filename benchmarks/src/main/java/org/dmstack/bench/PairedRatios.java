package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BioRing;
import org.dmstack.block.BlockDevice;
import org.dmstack.iov.IovIter;

/**
 * Ratios that a shared machine cannot decide: the contender and its baseline run alternately in
 * short rounds in one JVM (A B, then B A, and so on, so drift within a pair cancels), each round
 * gives one ratio of throughputs, and the result is the median of those ratios with the spread of
 * the middle half. Noise that outlasts a round slows both sides of it; noise shorter than a round
 * moves one ratio, which the median ignores. Separate JMH runs of A and B, minutes apart, have no
 * such protection: that is how a figure above 100% of a raw copy came about.
 */
final class PairedRatios {
    /**
     * One pair's result: the median of the per-round ratios contender/baseline with its spread, how
     * many rounds, and whether the contender can never be faster than the baseline (a physical
     * limit, such as a raw copy of the same bytes). In one JVM the spread ({@code q1}, {@code q3})
     * is the middle half of the rounds; over {@code forks} JVMs ({@link PairedForks}) the median is
     * the median of the JVMs' medians and the spread is their range.
     */
    record Ratio(String what, String contender, String baseline, double median, double q1, double q3, int rounds, boolean baselineIsLimit, int forks) {
        /** A ratio measured in one JVM. */
        Ratio(String what, String contender, String baseline, double median, double q1, double q3, int rounds, boolean baselineIsLimit) {
            this(what, contender, baseline, median, q1, q3, rounds, baselineIsLimit, 1);
        }

        /**
         * Above a physical limit by more than the spread explains: a measurement error, never a
         * result. In one JVM, when even the lower quartile of the rounds is; over JVMs, when the
         * median as shown is (at least half the JVMs measured above the limit, each by its own
         * median; 100.3% shows as 100%, and is not flagged).
         */
        boolean aboveLimit() {
            return baselineIsLimit && (forks > 1 ? Math.round(median * 100) > 100 : q1 > 1.0);
        }

        String format() {
            if (forks > 1) return String.format(Locale.ROOT, "%.0f%% (%.0f%%-%.0f%% over %d JVMs)", median * 100, q1 * 100, q3 * 100, forks);
            return String.format(Locale.ROOT, "%.0f%% (%.0f%%-%.0f%%)", median * 100, q1 * 100, q3 * 100);
        }

        /** The line main prints. */
        String line() {
            return String.format(Locale.ROOT, "%-36s of %-9s %s%s", what, baseline, format(), aboveLimit() ? "  measurement error: above the limit" : "");
        }
    }

    /** How long a round runs each side, how many rounds, how long each side warms up first. */
    record Plan(long roundNanos, int rounds, long warmupNanos) {
        /**
         * 15 rounds of 100 ms after 1 s of warm-up, or as {@code dmstack.bench.rounds},
         * {@code dmstack.bench.roundMillis} and {@code dmstack.bench.warmupMillis} say.
         */
        static Plan full() {
            return new Plan(Long.getLong("dmstack.bench.roundMillis", 100) * 1_000_000L, Integer.getInteger("dmstack.bench.rounds", 15),
                    Long.getLong("dmstack.bench.warmupMillis", 1000) * 1_000_000L);
        }

        static Plan smoke() {
            return new Plan(5_000_000L, 3, 10_000_000L);
        }
    }

    /** One operation of a side; returns something so the JIT cannot drop it. */
    @FunctionalInterface
    interface Op {
        long run();
    }

    private PairedRatios() {}

    /**
     * The DAX pairs alone, printed: {@code PairedRatios [wc-off|wc-on] [SIZE...]} (bytes; default
     * 4096 65536 1048576), write cache off and on or only as said, regions of
     * {@code dmstack.bench.daxRegionMiB} MiB (default 64) under {@link Stacks#pmemDir()}. Run the JVM
     * with {@link DaxBench#COPIES_APART}, or the raw copies are no limit. {@code PairedRatios bio}:
     * the bio pairs alone, on devices of {@code dmstack.bench.bioDeviceMiB} MiB (default 256). With
     * {@code -Ddmstack.bench.forks=N}, N fresh JVMs each measure every pair ({@link PairedForks}).
     */
    public static void main(String[] args) throws java.io.IOException, InterruptedException {
        boolean fork = args.length > 0 && args[0].equals(PairedForks.FORK);
        if (fork) args = Arrays.copyOfRange(args, 1, args.length);
        int forks = fork ? 1 : PairedForks.forks();
        List<Ratio> ratios = forks > 1 ? PairedForks.run(forks, List.of(args)) : ratios(args);
        for (Ratio r : ratios) System.out.println(fork ? PairedForks.line(r) : r.line());
    }

    /** The pairs main's arguments name, measured in this JVM. */
    private static List<Ratio> ratios(String[] args) {
        if (args.length == 1 && args[0].equals("bio")) return bio(Plan.full(), Long.getLong("dmstack.bench.bioDeviceMiB", 256) << 20);
        if (!DaxBench.copiesApart()) System.err.println("warning: the JVM runs without " + DaxBench.COPIES_APART + ": the raw copies are not a true limit");
        boolean[] caches = {false, true};
        if (args.length > 0 && args[0].startsWith("wc-")) {
            caches = new boolean[] {args[0].equals("wc-on")};
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        int[] sizes = args.length == 0 ? Report.DAX_SIZES : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        return dax(Plan.full(), Long.getLong("dmstack.bench.daxRegionMiB", 64) << 20, sizes, caches);
    }

    /**
     * Timed by the wall clock, or with {@code -Ddmstack.bench.cpuTime=true} by the thread's CPU
     * time (as below): on a machine shared with other work, the wait for a core, not the code,
     * decides a wall-clock round.
     */
    static Ratio measure(String what, String contender, Op a, String baseline, Op b, boolean baselineIsLimit, Plan plan) {
        return measure(what, contender, a, baseline, b, baselineIsLimit, plan, CPU_TIME);
    }

    private static final boolean CPU_TIME = Boolean.getBoolean("dmstack.bench.cpuTime");

    /**
     * As above; with {@code byCpu}, each round's rate is operations over the thread's CPU time
     * rather than wall-clock time: what one core gives, whatever share of it the thread had.
     */
    static Ratio measure(String what, String contender, Op a, String baseline, Op b, boolean baselineIsLimit, Plan plan, boolean byCpu) {
        return paired(what, contender, nanos -> opsPerSecond(a, nanos, byCpu), baseline, nanos -> opsPerSecond(b, nanos, byCpu), baselineIsLimit, plan);
    }

    /**
     * As above with {@code threads} threads running a side at once, thread t its own op
     * ({@code a.apply(t)}), a round's rate the sum of theirs: what JMH's {@code @Threads} gives,
     * paired. By the wall clock, as JMH: the threads share the machine's cores with each other.
     */
    static Ratio measure(String what, String contender, IntFunction<Op> a, String baseline, IntFunction<Op> b, int threads, Plan plan) {
        Op[] as = new Op[threads], bs = new Op[threads];
        for (int t = 0; t < threads; t++) {
            as[t] = a.apply(t);
            bs[t] = b.apply(t);
        }
        // The same threads all along, as JMH's: what a layer keeps per thread is set up once, not every round.
        try (ExecutorService team = Executors.newFixedThreadPool(threads)) {
            return paired(what, contender, nanos -> together(team, as, nanos), baseline, nanos -> together(team, bs, nanos), false, plan);
        }
    }

    /** One side's rate over a round of {@code nanos}. */
    @FunctionalInterface
    private interface Side {
        double rate(long nanos);
    }

    /** The rounds: each side warms up, then they take turns, A B, B A, ...; the median of the rounds' ratios. */
    private static Ratio paired(String what, String contender, Side a, String baseline, Side b, boolean baselineIsLimit, Plan plan) {
        a.rate(plan.warmupNanos());
        b.rate(plan.warmupNanos());
        double[] ratios = new double[plan.rounds()];
        for (int i = 0; i < plan.rounds(); i++) {
            double ra, rb;
            if (i % 2 == 0) {
                ra = a.rate(plan.roundNanos());
                rb = b.rate(plan.roundNanos());
            } else {
                rb = b.rate(plan.roundNanos());
                ra = a.rate(plan.roundNanos());
            }
            ratios[i] = ra / rb;
        }
        Arrays.sort(ratios);
        return new Ratio(what, contender, baseline, quantile(ratios, 0.5), quantile(ratios, 0.25), quantile(ratios, 0.75), ratios.length,
                baselineIsLimit);
    }

    /** {@code ops} run at once, one per thread of {@code team}, for {@code nanos}: the sum of their rates. */
    private static double together(ExecutorService team, Op[] ops, long nanos) {
        // Each waits for all to have started, so no thread of the team takes two ops one after the other.
        CountDownLatch started = new CountDownLatch(ops.length);
        List<Callable<Double>> tasks = new ArrayList<>();
        for (Op op : ops) {
            tasks.add(() -> {
                started.countDown();
                started.await();
                return opsPerSecond(op, nanos, false);
            });
        }
        double sum = 0;
        try {
            for (Future<Double> f : team.invokeAll(tasks)) sum += f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        return sum;
    }

    static long sink;

    private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

    private static double opsPerSecond(Op op, long nanos, boolean byCpu) {
        long ops = 0, acc = 0;
        long cpuStart = byCpu ? THREADS.getCurrentThreadCpuTime() : 0;
        long start = System.nanoTime(), end = start + nanos, now;
        do {
            for (int i = 0; i < 16; i++) acc += op.run();
            ops += 16;
            now = System.nanoTime();
        } while (now < end);
        sink += acc; // a race between threads loses a sum nobody reads: it only has to be used
        return ops * 1e9 / (byCpu ? THREADS.getCurrentThreadCpuTime() - cpuStart : now - start);
    }

    /** Linear interpolation between the closest ranks of sorted values. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    // ---- the pairs the report judges its goals by ----

    /**
     * DAX reads and writes through each stack against the raw copy of the same bytes in the same
     * memory ({@link RawCopy} over the stack's own direct_access), write cache off and on. The limit
     * is the fastest way of raw copying that memory (one copy per extent, a page at a time, or the
     * iterator's copy), chosen for each stack, size and operation by pairing the other two with the
     * one copy; those pairs are reported too, as {@code RAW_PAGES/LINEAR} and so on.
     */
    static List<Ratio> dax(Plan plan, long regionBytes) {
        return dax(plan, regionBytes, Report.DAX_SIZES, new boolean[] {false, true});
    }

    private static List<Ratio> dax(Plan plan, long regionBytes, int[] sizes, boolean[] caches) {
        List<Ratio> out = new ArrayList<>();
        for (boolean wc : caches) {
            for (int size : sizes) {
                // One buffer for every side: where a heap array lies against cache lines moves a
                // copy's speed by 10% and more, and that must not be what a ratio measures.
                byte[] buffer = new byte[size];
                for (String layer : Report.LAYERS) {
                    try (Stacks.Dax stack = new Stacks.Dax(Stacks.Layer.valueOf(layer), regionBytes, wc)) {
                        RawCopy raw = new RawCopy(RawCopy.Kind.RAW, stack.dax, regionBytes, size);
                        for (String op : new String[] {"read", "write"}) {
                            RawCopy limit = raw;
                            double best = 1;
                            for (RawCopy.Kind other : new RawCopy.Kind[] {RawCopy.Kind.RAW_PAGES, RawCopy.Kind.RAW_ITER}) {
                                String name = other.name() + "/" + layer;
                                Ratio r = measure(key("DAX " + op, name, size, wc), name, rawOp(raw.as(other), op, buffer, wc, regionBytes), "RAW",
                                        rawOp(raw, op, buffer, wc, regionBytes), false, plan);
                                out.add(r);
                                if (r.median() > best) {
                                    best = r.median();
                                    limit = raw.as(other);
                                }
                            }
                            out.add(measure(key("DAX " + op, layer, size, wc), layer, daxOp(stack, op, buffer, wc, regionBytes), limit.kind.name(),
                                    rawOp(limit, op, buffer, wc, regionBytes), true, plan));
                        }
                    }
                }
            }
        }
        return out;
    }

    static String key(String op, String layer, int size, boolean wc) {
        return op + " " + Stacks.human(size) + " " + layer + (wc ? " wc-on" : " wc-off");
    }

    /** A read or write of all of {@code buffer} through a stack, at the next position of the region each time. */
    static Op daxOp(Stacks.Dax dax, String op, byte[] buffer, boolean wc, long regionBytes) {
        MemorySegment segment = MemorySegment.ofArray(buffer);
        IovIter iter = IovIter.iovec(buffer);
        boolean read = op.equals("read");
        return walker(buffer.length, regionBytes, p -> read ? DaxBench.read(dax, p, segment, iter) : DaxBench.write(dax, p, segment, iter, wc));
    }

    /** The same for a raw copy. */
    private static Op rawOp(RawCopy raw, String op, byte[] buffer, boolean wc, long regionBytes) {
        MemorySegment segment = MemorySegment.ofArray(buffer);
        IovIter iter = IovIter.iovec(buffer);
        boolean read = op.equals("read");
        return walker(buffer.length, regionBytes, p -> read ? raw.read(p, segment, iter) : raw.write(p, segment, iter, wc));
    }

    private static Op walker(int size, long regionBytes, java.util.function.LongUnaryOperator at) {
        long[] pos = {0};
        return () -> {
            long p = pos[0];
            pos[0] = p + size >= regionBytes ? 0 : p + size;
            return at.applyAsLong(p);
        };
    }

    /**
     * 4 KiB random bios and 1 MiB sequential bios through dm-linear and dm-stripe against brd
     * directly, on the very disks they map: dm-linear's baseline is the RAM disk it maps (the same
     * pages, in the same order), dm-stripe's the two disks it stripes over, each bio addressed to
     * the disk and sector where the stripe puts it ({@link Disks}) and a 1 MiB bio sent as the
     * stripe sends it, one bio per chunk. Two disks of their own sit in different memory, and on
     * this machine memory alone moved a ratio by 10% and more once brd's pages came in huge pages.
     * Each workload runs once on one thread and once on {@value #BIO_THREADS} at once (BioBench's
     * two runs), then twice through a BioRing.
     */
    static List<Ratio> bio(Plan plan, long deviceBytes) {
        List<Ratio> out = new ArrayList<>();
        for (String layer : new String[] {"LINEAR", "STRIPE2"}) {
            try (Stacks.BioStack stack = new Stacks.BioStack(Stacks.Layer.valueOf(layer), deviceBytes)) {
                Disks self = new Disks(new BlockDevice[] {stack.device}, 0);
                Disks base = layer.equals("LINEAR") ? new Disks(new BlockDevice[] {stack.registry.lookup("ram0")}, 0)
                        : new Disks(new BlockDevice[] {stack.registry.lookup("ram0"), stack.registry.lookup("ram1")}, Stacks.STRIPE_CHUNK_SECTORS);
                for (String m : Report.BIO_METHODS) {
                    // One buffer for both sides, as the ring pairs share theirs (see ringOp).
                    MemorySegment buffer = bioBuffer(m);
                    out.add(measure(bioKey(m, layer, 1), layer, bioOp(self, m, buffer, 0), "DIRECT", bioOp(base, m, buffer, 0), false, plan));
                }
                for (String m : Report.BIO_METHODS) {
                    // Each thread its buffer, random stream and cursor, shared by its two sides.
                    MemorySegment[] buffers = new MemorySegment[BIO_THREADS];
                    for (int t = 0; t < BIO_THREADS; t++) buffers[t] = bioBuffer(m);
                    out.add(measure(bioKey(m, layer, BIO_THREADS), layer, t -> bioOp(self, m, buffers[t], t), "DIRECT", t -> bioOp(base, m, buffers[t], t),
                            BIO_THREADS, plan));
                }
                for (boolean write : new boolean[] {false, true}) {
                    String m = write ? "randWrite4k" : "randRead4k";
                    MemorySegment[] buffers = ringBuffers(4096);
                    out.add(measure("ring " + m + " " + layer, layer, ringOp(self, write, buffers), "DIRECT", ringOp(base, write, buffers), false, plan, true));
                }
            }
        }
        return out;
    }

    /**
     * Where a sector of a stack lies: on the one device itself, or, for the disks under a stripe
     * addressed directly, on disk {@code chunk % n} at chunk {@code chunk / n} (dm-stripe's
     * stripe_map_sector for a chunk size that is a power of two).
     */
    record Disks(BlockDevice[] disks, long chunkSectors) {
        long capacity() {
            return disks[0].capacity() * disks.length;
        }

        BlockDevice disk(long sector) {
            return disks.length == 1 ? disks[0] : disks[(int) (sector / chunkSectors % disks.length)];
        }

        long sector(long sector) {
            return disks.length == 1 ? sector : sector / chunkSectors / disks.length * chunkSectors + sector % chunkSectors;
        }

        /** A bio of {@code buffer} at {@code sector}, one per chunk over a stripe's disks, all sent, then all waited for. */
        void io(long sector, MemorySegment buffer, boolean write) {
            long sectors = buffer.byteSize() >> 9;
            long step = disks.length == 1 ? sectors : Math.min(sectors, chunkSectors - sector % chunkSectors);
            if (step == sectors) {
                Stacks.check(Stacks.submit(disk(sector), bio(sector, buffer, write)));
                return;
            }
            List<Bio> bios = new ArrayList<>();
            for (long done = 0; done < sectors; done += step, step = Math.min(chunkSectors, sectors - done)) {
                Bio bio = bio(sector + done, buffer.asSlice(done << 9, step << 9), write);
                disk(sector + done).submit(bio);
                bios.add(bio);
            }
            for (Bio bio : bios) Stacks.check(bio.await());
        }

        private Bio bio(long sector, MemorySegment buffer, boolean write) {
            return write ? Bio.write(sector(sector), buffer) : Bio.read(sector(sector), buffer);
        }
    }

    /** Threads in the bio pairs' second set: BioBench's second run, as the report shows it. */
    static final int BIO_THREADS = 2;

    /** The name of a bio pair: {@code bio randRead4k LINEAR}, with two threads {@code bio randRead4k LINEAR 2 threads}. */
    static String bioKey(String method, String layer, int threads) {
        return "bio " + method + " " + layer + (threads > 1 ? " " + threads + " threads" : "");
    }

    private static MemorySegment bioBuffer(String method) {
        return MemorySegment.ofArray(new byte[method.endsWith("1m") ? 1 << 20 : 4096]);
    }

    /**
     * Thread {@code id}'s bios of {@code method} over {@code buffer}: its own random stream, and
     * its sequential cursor half a device from the previous thread's, as BioBench's threads.
     */
    private static Op bioOp(Disks disks, String method, MemorySegment buffer, int id) {
        boolean large = method.endsWith("1m");
        boolean write = method.contains("Write");
        int bytes = (int) buffer.byteSize();
        long sectors = disks.capacity();
        long step = bytes >> 9;
        SplittableRandom random = new SplittableRandom(42 + id);
        long[] cursor = {sectors / 2 * id / step * step % sectors};
        return () -> {
            long sector;
            if (large) {
                sector = cursor[0];
                cursor[0] = sector + step >= sectors ? 0 : sector + step;
            } else {
                sector = random.nextLong(sectors / step) * step;
            }
            disks.io(sector, buffer, write);
            return sector;
        };
    }

    /** The buffers of a ring's bios, {@code bytes} each (a power of two from 512 to 4096). */
    static MemorySegment[] ringBuffers(int bytes) {
        MemorySegment[] buffers = new MemorySegment[RING_DEPTH];
        for (int i = 0; i < RING_DEPTH; i++) buffers[i] = MemorySegment.ofArray(new byte[bytes]);
        return buffers;
    }

    /**
     * One bio at a random place aligned to its size, through a BioRing that keeps 32 in flight (as
     * BioRingBench, which sends 4 KiB), its bios over {@code buffers}. The two sides of a pair
     * share them: where a heap array lies against the device's pages moved a 512-byte copy by 20
     * ns, more than what a pair measures. (Devices that end bios at once, as brd, never have two
     * sides' bios in one buffer at the same time.)
     */
    static Op ringOp(Disks disks, boolean write, MemorySegment[] buffers) {
        BioRing ring = new BioRing(RING_DEPTH);
        int shift = Integer.numberOfTrailingZeros((int) buffers[0].byteSize() >> 9);
        long pages = disks.capacity() >> shift;
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < RING_DEPTH; i++) {
            long sector = random.nextLong(pages) << shift;
            ring.queue(disks.disk(sector), Bio.read(disks.sector(sector), buffers[i]));
        }
        ring.submit();
        BioOp op = write ? BioOp.WRITE : BioOp.READ;
        return () -> {
            Bio done = ring.poll();
            if (done == null) {
                ring.submit();
                try {
                    done = ring.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            Stacks.check(done.await());
            long sector = random.nextLong(pages) << shift;
            ring.queue(disks.disk(sector), done.reset(op, disks.sector(sector), done.data()));
            return sector;
        };
    }

    static final int RING_DEPTH = 32;
}
