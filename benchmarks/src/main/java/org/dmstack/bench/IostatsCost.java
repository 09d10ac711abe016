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
 * Each two neighbours make a pair measured within a fraction of a second of each other, so that
 * the load of a shared machine weighs on both sides alike; the order inside a pair alternates.
 * A pair's loss is 1 - on/off; the verdict is on the median pair.
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

    record Pair(double on, double off) {
        double loss() {
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
                Collection<RunResult> runs = new Runner(new OptionsBuilder()
                        .include("^" + BioBench.class.getName().replace(".", "\\.") + "\\." + method + "$")
                        .param("iostats", "alternate")
                        .param("stack", stack)
                        .forks(0)
                        .threads(1)
                        // A multiple of 4, so that measured iterations start the on, off, off, on cycle.
                        .warmupIterations(8)
                        .warmupTime(time)
                        .measurementIterations(2 * pairs)
                        .measurementTime(time)
                        .shouldFailOnError(true)
                        .verbosity(VerboseMode.SILENT)
                        .build()).run();
                List<Pair> list = new ArrayList<>();
                for (RunResult r : runs) {
                    List<IterationResult> its = new ArrayList<>(r.getAggregatedResult().getIterationResults());
                    for (int i = 0; i + 1 < its.size(); i += 2) {
                        double a = its.get(i).getPrimaryResult().getScore();
                        double b = its.get(i + 1).getPrimaryResult().getScore();
                        // Iterations 0 and 3 of every 4 ran with accounting on.
                        list.add(i % 4 == 0 ? new Pair(a, b) : new Pair(b, a));
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

    /** The q-quantile, interpolated between the two nearest values. */
    static double quantile(List<Double> values, double q) {
        List<Double> v = new ArrayList<>(values);
        v.sort(null);
        double at = q * (v.size() - 1);
        int lo = (int) Math.floor(at);
        int hi = (int) Math.ceil(at);
        return v.get(lo) + (v.get(hi) - v.get(lo)) * (at - lo);
    }

    /** A markdown table: per stack and method, the median on and off, the median pair's loss and the middle half of the losses. */
    static String table(Map<String, List<Pair>> all) {
        StringBuilder s = new StringBuilder();
        s.append("| stack | benchmark | iostats on (ops/s) | off (ops/s) | loss, median pair | middle half of the pairs | pairs | ≤ 3% |\n");
        s.append("|---|---|---:|---:|---:|---|---:|---|\n");
        for (Map.Entry<String, List<Pair>> e : all.entrySet()) {
            List<Pair> pairs = e.getValue();
            List<Double> losses = pairs.stream().map(Pair::loss).toList();
            double loss = median(losses);
            String[] key = e.getKey().split(" ");
            s.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.0f | %s | %s to %s | %d | %s |%n", key[0], key[1],
                    median(pairs.stream().map(Pair::on).toList()), median(pairs.stream().map(Pair::off).toList()),
                    pct(loss), pct(quantile(losses, 0.25)), pct(quantile(losses, 0.75)), pairs.size(), loss <= GOAL ? "yes" : "NO"));
        }
        return s.toString();
    }

    private static String pct(double v) {
        return String.format(Locale.ROOT, "%+.1f%%", v * 100);
    }

    private IostatsCost() {}
}
