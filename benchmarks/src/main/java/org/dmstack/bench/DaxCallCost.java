package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
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
        Map<String, double[]> ns = measure(layers, size, write, Integer.getInteger("dmstack.bench.rounds", 21), 200_000);
        double floor = ns.containsKey("RAW_ITER") ? ns.get("RAW_ITER")[1] : 0;
        ns.forEach((layer, q) -> System.out.printf(Locale.ROOT, "%-8s %s %d B: %.1f ns/call (%.1f-%.1f)%s%n", layer, write ? "write" : "read", size,
                q[1], q[0], q[2], floor > 0 && !layer.equals("RAW_ITER") ? String.format(Locale.ROOT, ", %+.1f over RAW_ITER", q[1] - floor) : ""));
    }

    /** Per stack, in the order given: the lower quartile, median and upper quartile of the rounds' ns per call. */
    static Map<String, double[]> measure(String[] layers, int size, boolean write, int rounds, int calls) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long region = 64L << 20;
        Stacks.Dax[] stacks = new Stacks.Dax[layers.length];
        try {
            for (int i = 0; i < layers.length; i++) stacks[i] = new Stacks.Dax(Stacks.Layer.valueOf(layers[i]), region, false);
            byte[] bytes = new byte[size];
            MemorySegment buffer = MemorySegment.ofArray(bytes);
            IovIter iter = IovIter.iovec(bytes);
            for (int w = 0; w < 5; w++) for (Stacks.Dax d : stacks) run(d, buffer, iter, calls, write);
            double[][] ns = new double[layers.length][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < stacks.length; k++) {
                    int i = r % 2 == 0 ? k : stacks.length - 1 - k;
                    long start = threads.getCurrentThreadCpuTime();
                    run(stacks[i], buffer, iter, calls, write);
                    ns[i][r] = (threads.getCurrentThreadCpuTime() - start) / (double) calls;
                }
            }
            Map<String, double[]> out = new LinkedHashMap<>();
            for (int i = 0; i < layers.length; i++) {
                Arrays.sort(ns[i]);
                out.put(layers[i], new double[] {PairedRatios.quantile(ns[i], 0.25), PairedRatios.quantile(ns[i], 0.5), PairedRatios.quantile(ns[i], 0.75)});
            }
            return out;
        } finally {
            for (Stacks.Dax d : stacks) if (d != null) d.close();
        }
    }

    private static void run(Stacks.Dax dax, MemorySegment buffer, IovIter iter, int calls, boolean write) {
        int size = (int) buffer.byteSize();
        long mask = size <= 4096 ? (64 << 10) - 1 : (16L << 20) - 1;
        long acc = 0;
        for (int i = 0; i < calls; i++) {
            long pos = ((long) i * size) & mask;
            acc += write ? DaxBench.write(dax, pos, buffer, iter, false) : DaxBench.read(dax, pos, buffer, iter);
        }
        PairedRatios.sink += acc;
    }
}
