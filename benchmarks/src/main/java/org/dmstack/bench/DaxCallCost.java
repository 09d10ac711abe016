package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongUnaryOperator;
import org.dmstack.iov.IovIter;

/**
 * What a DAX call costs beside its copy, in CPU nanoseconds per call: reads or writes of
 * {@code size} bytes through several stacks built in one JVM (so that the call sites see pmem,
 * dm-linear and dm-stripe, as in {@link PairedRatios} and a daemon), the stacks taking turns in
 * rounds of {@code calls} calls, the median of the rounds per stack. The positions stay inside the
 * first 64 KiB (16 MiB above 4 KiB) so the copies are cache hits: the differences between stacks
 * in one JVM are then their fixed costs, steady to a nanosecond, while whole figures move by
 * several between JVMs. {@code RAW_ITER} (the iterator's copy straight to the memory) is the floor.
 *
 * <p>Cold, with {@code -Ddmstack.bench.callRegionMiB=N}: the positions walk the whole first N MiB
 * (in order, as {@link PairedRatios} walks its region, or at random pages with
 * {@code -Ddmstack.bench.random=true}), so each copy's source comes from memory: what a call costs
 * where the goals are judged. Each stack is then measured beside {@code RAW} and {@code RAW_ITER}
 * copies of its own memory ({@link RawCopy}, the bytes each of its calls moves), the three taking
 * turns in the same loop, and the figure is its excess over those copies. With
 * {@code -Ddmstack.bench.loads=N} a fourth side takes its turns: the {@code RAW} copy after N
 * dependent loads from a few hot cache lines (a chain of pointers such as a call down a device
 * stack follows, with no call and no copy of its own): what that much work between two copies
 * costs there, to set beside the same side's cost with the copies in cache (a region of 1 MiB).
 *
 * <pre>
 * DaxCallCost [SIZE [read|write]]   -Ddmstack.bench.layers=RAW_ITER,DIRECT,LINEAR,STRIPE2 -Ddmstack.bench.rounds=21
 * </pre>
 *
 * Run with {@link DaxBench#COPIES_APART}, as PairedRatios is.
 */
final class DaxCallCost {
    private DaxCallCost() {}

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        boolean write = args.length > 1 && args[1].equals("write");
        String[] layers = System.getProperty("dmstack.bench.layers", "RAW_ITER,DIRECT,LINEAR,STRIPE2").split(",");
        long region = Long.getLong("dmstack.bench.callRegionMiB", 0) << 20;
        int rounds = Integer.getInteger("dmstack.bench.rounds", 21);
        String op = write ? "write" : "read";
        if (region > 0) {
            Positions at = Positions.over(region, size, Boolean.getBoolean("dmstack.bench.random"));
            for (String layer : layers) {
                if (Stacks.Layer.valueOf(layer).raw()) continue;
                Map<String, double[]> ns = onOwnMemory(layer, size, write, rounds, 100_000, at, LOADS);
                double raw = ns.get("RAW")[1], iter = ns.get("RAW_ITER")[1], stack = ns.get(layer)[1];
                if (ns.containsKey("RAW_LOADS")) {
                    System.out.printf(Locale.ROOT, "RAW after %d dependent loads: %.1f ns/call, %+.1f over RAW%n", LOADS, ns.get("RAW_LOADS")[1], ns.get("RAW_LOADS")[1] - raw);
                }
                System.out.printf(Locale.ROOT, "%-8s %s %d B over %d MiB: RAW %.1f, RAW_ITER %.1f (%+.1f), %s %.1f ns/call: %+.1f over RAW_ITER, %.0f%% of RAW%n",
                        layer, op, size, region >> 20, raw, iter, iter - raw, layer, stack, stack - iter, 100 * raw / stack);
            }
            return;
        }
        Map<String, double[]> ns = measure(layers, size, write, rounds, 200_000);
        double floor = ns.containsKey("RAW_ITER") ? ns.get("RAW_ITER")[1] : 0;
        ns.forEach((layer, q) -> System.out.printf(Locale.ROOT, "%-8s %s %d B: %.1f ns/call (%.1f-%.1f)%s%n", layer, op, size,
                q[1], q[0], q[2], floor > 0 && !layer.equals("RAW_ITER") ? String.format(Locale.ROOT, ", %+.1f over RAW_ITER", q[1] - floor) : ""));
    }

    /**
     * Where the calls read or write, one after another: inside a few cache-hot pages, or over all
     * of {@code region} at {@code size}-aligned positions, in order or at random (the same sequence
     * for every side); the stacks are {@code region} bytes.
     */
    record Positions(long[] pos, long region) {
        static Positions hot(int size) {
            long mask = size <= 4096 ? (64 << 10) - 1 : (16L << 20) - 1;
            long[] pos = new long[(int) ((mask + 1) / size)];
            for (int i = 0; i < pos.length; i++) pos[i] = (long) i * size;
            return new Positions(pos, 64L << 20);
        }

        static Positions over(long region, int size, boolean random) {
            long[] pos = new long[(int) (region / size)];
            java.util.SplittableRandom r = new java.util.SplittableRandom(42);
            for (int i = 0; i < pos.length; i++) pos[i] = (random ? r.nextLong(pos.length) : i) * size;
            return new Positions(pos, region);
        }
    }

    /** Per stack, in the order given: the lower quartile, median and upper quartile of the rounds' ns per call. */
    static Map<String, double[]> measure(String[] layers, int size, boolean write, int rounds, int calls) {
        Positions at = Positions.hot(size);
        long region = at.region();
        Stacks.Dax[] stacks = new Stacks.Dax[layers.length];
        try {
            byte[] bytes = new byte[size];
            MemorySegment buffer = MemorySegment.ofArray(bytes);
            IovIter iter = IovIter.iovec(bytes);
            LongUnaryOperator[] sides = new LongUnaryOperator[layers.length];
            for (int i = 0; i < layers.length; i++) {
                Stacks.Dax d = stacks[i] = new Stacks.Dax(Stacks.Layer.valueOf(layers[i]), region, false);
                sides[i] = pos -> write ? DaxBench.write(d, pos, buffer, iter, false) : DaxBench.read(d, pos, buffer, iter);
            }
            return turns(layers, sides, rounds, calls, at);
        } finally {
            for (Stacks.Dax d : stacks) if (d != null) d.close();
        }
    }

    /**
     * {@code layer} (a stack) beside the raw copies of its own memory, RAW and RAW_ITER, over the
     * positions of {@code at}; and RAW after {@code loads} dependent loads ({@code RAW_LOADS}) when
     * that is above 0.
     */
    static Map<String, double[]> onOwnMemory(String layer, int size, boolean write, int rounds, int calls, Positions at, int loads) {
        long region = at.region();
        try (Stacks.Dax d = new Stacks.Dax(Stacks.Layer.valueOf(layer), region, false)) {
            byte[] bytes = new byte[size];
            MemorySegment buffer = MemorySegment.ofArray(bytes);
            IovIter iter = IovIter.iovec(bytes);
            RawCopy raw = new RawCopy(RawCopy.Kind.RAW, d.dax, region, size);
            RawCopy rawIter = raw.as(RawCopy.Kind.RAW_ITER);
            LongUnaryOperator rawSide = pos -> write ? raw.write(pos, buffer, iter, false) : raw.read(pos, buffer, iter);
            LongUnaryOperator[] sides = {
                rawSide,
                pos -> write ? rawIter.write(pos, buffer, iter, false) : rawIter.read(pos, buffer, iter),
                pos -> write ? DaxBench.write(d, pos, buffer, iter, false) : DaxBench.read(d, pos, buffer, iter)};
            String[] names = {"RAW", "RAW_ITER", layer};
            if (loads > 0) {
                sides = Arrays.copyOf(sides, 4);
                sides[3] = afterLoads(rawSide, loads);
                names = new String[] {"RAW", "RAW_ITER", layer, "RAW_LOADS"};
            }
            return turns(names, sides, rounds, calls, at);
        }
    }

    private static final int LOADS = Integer.getInteger("dmstack.bench.loads", 0);

    /**
     * {@code copy} after {@code loads} loads, each of whose address depends on the one before, from
     * a ring of 16 slots over 1 KiB (in L1 after the first call): the chain costs its latency, not
     * misses. The chain's end is stored where the JIT must keep it ({@link #chainEnd}): a result
     * it can prove unused (such as the end times 0) lets it drop the loads altogether.
     */
    static LongUnaryOperator afterLoads(LongUnaryOperator copy, int loads) {
        int[] next = new int[16 * 16];
        for (int i = 0; i < 16; i++) next[i * 16] = ((i + 1) % 16) * 16;
        return pos -> {
            int at = 0;
            for (int k = 0; k < loads; k++) at = next[at];
            chainEnd = at;
            return copy.applyAsLong(pos);
        };
    }

    /** Where {@link #afterLoads} leaves the end of its chain. */
    static int chainEnd;

    /** The sides taking turns (forwards, then backwards) for {@code rounds} rounds of {@code calls} calls, after five rounds of warm-up. */
    private static Map<String, double[]> turns(String[] names, LongUnaryOperator[] sides, int rounds, int calls, Positions at) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int w = 0; w < 5; w++) for (LongUnaryOperator side : sides) run(side, calls, at);
        double[][] ns = new double[sides.length][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < sides.length; k++) {
                int i = r % 2 == 0 ? k : sides.length - 1 - k;
                long start = threads.getCurrentThreadCpuTime();
                run(sides[i], calls, at);
                ns[i][r] = (threads.getCurrentThreadCpuTime() - start) / (double) calls;
            }
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        for (int i = 0; i < sides.length; i++) {
            Arrays.sort(ns[i]);
            out.put(names[i], new double[] {PairedRatios.quantile(ns[i], 0.25), PairedRatios.quantile(ns[i], 0.5), PairedRatios.quantile(ns[i], 0.75)});
        }
        return out;
    }

    private static void run(LongUnaryOperator side, int calls, Positions at) {
        long[] positions = at.pos();
        long acc = 0;
        for (int i = 0, next = 0; i < calls; i++) {
            acc += side.applyAsLong(positions[next]);
            next = next + 1 == positions.length ? 0 : next + 1;
        }
        PairedRatios.sink += acc;
    }
}
