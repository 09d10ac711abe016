package org.dmstack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * What I/O accounting costs the bio path: {@link BioBench} with {@code iostats=alternate}, one JMH
 * run per stack and method in this JVM (no forks: both sides run the same compiled code), every
 * disk's queue/iostats switched on and off between neighbouring iterations (on, off, off, on, ...).
 * Two neighbours make a pair, measured within a fraction of a second of each other; the order
 * inside a pair alternates.
 *
 * <p>Each side is measured twice: JMH's throughput (bios per second of wall-clock time) and the
 * benchmark thread's CPU time per bio. On a quiet machine they tell the same; on a shared one
 * the thread is off the CPU for a varying share of each iteration and throughput swings by tens
 * of percent from one iteration to the next, while CPU time per bio, which does not count the
 * time the thread waits for a core, stays put. The verdict is on CPU time: a pair's loss is
 * 1 - (CPU per bio, off) / (CPU per bio, on), the throughput given up at full speed, judged on the
 * median pair.
 *
 * <pre>
 * java -cp "benchmarks/target/classes:benchmarks/target/lib/*" org.dmstack.bench.IostatsCost [--pairs N] [--millis MS] [--methods M1,M2] [--out FILE]
 * </pre>
 */
public final class IostatsCost {
    /** The bio path may lose at most this much to accounting. */
    static final double GOAL = 0.03;
    static final List<String> STACKS = List.of("DIRECT", "LINEAR", "STRIPE2");
    static final List<String> METHODS = List.of("randRead4k", "randWrite4k", "seqRead1m", "seqWrite1m");
    private static final int WARMUPS = 8;

    /** One iteration of BioBench with iostats=alternate, as its thread saw it. */
    record Sample(boolean on, long cpuNanos, long ops) {
        double cpuPerOp() {
            return (double) cpuNanos / ops;
        }
    }

    private static final List<Sample> SAMPLES = java.util.Collections.synchronizedList(new ArrayList<>());

    /** Called by BioBench's worker at the end of every iteration (warm-ups included). */
    static void record(boolean on, long cpuNanos, long ops) {
        SAMPLES.add(new Sample(on, cpuNanos, ops));
    }

    /** Neighbouring iterations, accounting on and off: throughput and CPU nanoseconds per bio of each. */
    record Pair(double on, double off, double cpuOn, double cpuOff) {
        /** The throughput given up at full speed: 1 - CPU off / CPU on. */
        double loss() {
            return 1 - cpuOff / cpuOn;
        }

        /** The throughput given up by the wall clock: 1 - on / off. */
        double wallLoss() {
            return 1 - on / off;
        }
    }

    public static void main(String[] args) throws Exception {
        int pairs = 30;
        int millis = 200;
        Path out = null;
        List<String> methods = METHODS;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--pairs" -> pairs = Integer.parseInt(args[++i]);
                case "--millis" -> millis = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--methods" -> methods = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("usage: IostatsCost [--pairs N] [--millis MS] [--methods M1,M2] [--out FILE]");
            }
        }
        System.setProperty("dmstack.bench.bioDeviceMiB", System.getProperty("dmstack.bench.bioDeviceMiB", "256"));
        String table = table(run(pairs, TimeValue.milliseconds(millis), methods));
        System.out.print(table);
        if (out != null) Files.writeString(out, table);
    }

    /** Every stack and method ("STACK method"): its pairs, in the order they ran. */
    static Map<String, List<Pair>> run(int pairs, TimeValue time, List<String> methods) throws RunnerException {
        Map<String, List<Pair>> all = new LinkedHashMap<>();
        for (String stack : STACKS) {
            for (String method : methods) {
                SAMPLES.clear();
                Collection<RunResult> runs = new Runner(new OptionsBuilder()
                        .include("^" + BioBench.class.getName().replace(".", "\\.") + "\\." + method + "$")
                        .param("iostats", "alternate")
                        .param("stack", stack)
                        .forks(0)
                        .threads(1)
                        // A multiple of 4, so that measured iterations start the on, off, off, on cycle.
                        .warmupIterations(WARMUPS)
                        .warmupTime(time)
                        .measurementIterations(2 * pairs)
                        .measurementTime(time)
                        .shouldFailOnError(true)
                        .verbosity(VerboseMode.SILENT)
                        .build()).run();
                List<Sample> samples = List.copyOf(SAMPLES.subList(WARMUPS, SAMPLES.size()));
                List<Pair> list = new ArrayList<>();
                for (RunResult r : runs) {
                    List<IterationResult> its = new ArrayList<>(r.getAggregatedResult().getIterationResults());
                    for (int i = 0; i + 1 < its.size(); i += 2) {
                        double a = its.get(i).getPrimaryResult().getScore();
                        double b = its.get(i + 1).getPrimaryResult().getScore();
                        Sample sa = samples.get(i);
                        Sample sb = samples.get(i + 1);
                        if (sa.on() == sb.on()) throw new IllegalStateException("iteration " + i + " and the next both had iostats " + sa.on());
                        list.add(sa.on() ? new Pair(a, b, sa.cpuPerOp(), sb.cpuPerOp()) : new Pair(b, a, sb.cpuPerOp(), sa.cpuPerOp()));
                    }
                }
                all.put(stack + " " + method, list);
            }
        }
        return all;
    }

    static double median(List<Double> values) {
        return quantile(values, 0.5);
    }

    /** The q-quantile, as PairedRatios interpolates it. */
    static double quantile(List<Double> values, double q) {
        return PairedRatios.quantile(values.stream().mapToDouble(Double::doubleValue).sorted().toArray(), q);
    }

    /**
     * A markdown table: per stack and method, the median CPU time per bio on and off, the median
     * pair's loss and the middle half of the pairs' losses, and the same by the wall clock.
     */
    static String table(Map<String, List<Pair>> all) {
        StringBuilder s = new StringBuilder();
        s.append("| stack | benchmark | CPU per bio, on (ns) | off (ns) | loss, median pair | middle half of the pairs | wall clock: on (ops/s) | off (ops/s) | loss, median pair | pairs | ≤ 3% |\n");
        s.append("|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|\n");
        for (Map.Entry<String, List<Pair>> e : all.entrySet()) {
            List<Pair> pairs = e.getValue();
            List<Double> losses = pairs.stream().map(Pair::loss).toList();
            double loss = median(losses);
            String[] key = e.getKey().split(" ");
            s.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.0f | %s | %s to %s | %.0f | %.0f | %s | %d | %s |%n", key[0], key[1],
                    median(pairs.stream().map(Pair::cpuOn).toList()), median(pairs.stream().map(Pair::cpuOff).toList()),
                    pct(loss), pct(quantile(losses, 0.25)), pct(quantile(losses, 0.75)),
                    median(pairs.stream().map(Pair::on).toList()), median(pairs.stream().map(Pair::off).toList()),
                    pct(median(pairs.stream().map(Pair::wallLoss).toList())), pairs.size(), loss <= GOAL ? "yes" : "NO"));
        }
        return s.toString();
    }

    private static String pct(double v) {
        return String.format(Locale.ROOT, "%+.1f%%", v * 100);
    }

    private IostatsCost() {}
}
