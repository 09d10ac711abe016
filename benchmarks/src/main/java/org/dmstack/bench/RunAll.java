package org.dmstack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs every benchmark and probe and writes the report.
 *
 * <pre>
 * RunAll [--smoke | --full] [--out DIR] [--fio DIR] [--only REGEX] [--report-only]
 * </pre>
 *
 * <ul>
 *   <li>{@code --full} (default): one fork per benchmark, 2 warm-up and 3 measured iterations of
 *       1 s each; DAX regions of 64 MiB, bio devices of 256 MiB.
 *   <li>{@code --smoke}: in this JVM (no forks), one 50 ms warm-up and one 100 ms measured
 *       iteration, small regions: proves everything runs, measures nothing worth reading.
 *   <li>{@code --fio DIR}: the NBD comparison's fio results to include (benchmarks/nbd-compare.sh).
 *   <li>{@code --report-only}: read DIR/results.json again and rewrite the report and chart.
 * </ul>
 *
 * Writes DIR/results.json, DIR/report.md and DIR/chart.png.
 */
public final class RunAll {
    /** How a run is done. */
    record Plan(boolean smoke, int forks, int warmups, TimeValue warmupTime, int iterations, TimeValue iterationTime,
            long daxRegionMiB, long bioDeviceMiB, long probeIoBytes) {
        static Plan fullRun() {
            return new Plan(false, 1, 2, TimeValue.seconds(1), 5, TimeValue.seconds(1), 64, 256, 256L << 20);
        }

        static Plan smokeRun() {
            return new Plan(true, 0, 1, TimeValue.milliseconds(50), 1, TimeValue.milliseconds(100), 4, 8, 8L << 20);
        }
    }

    private RunAll() {}

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        Plan plan = Plan.fullRun();
        Path out = Path.of("benchmarks/results");
        Path fio = null;
        String only = null;
        boolean reportOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--smoke" -> plan = Plan.smokeRun();
                case "--full" -> plan = Plan.fullRun();
                case "--out" -> out = Path.of(args[++i]);
                case "--fio" -> fio = Path.of(args[++i]);
                case "--only" -> only = args[++i];
                case "--report-only" -> reportOnly = true;
                default -> {
                    System.err.println("usage: RunAll [--smoke | --full] [--out DIR] [--fio DIR] [--only REGEX] [--report-only]");
                    System.exit(2);
                }
            }
        }
        Files.createDirectories(out);
        Results results = reportOnly ? Results.load(out.resolve("results.json")) : run(plan, only);
        if (!reportOnly) results.save(out.resolve("results.json"));
        Report.write(results, fio, out);
        System.out.println("report: " + out.resolve("report.md") + ", chart: " + out.resolve("chart.png"));
    }

    /** Runs the benchmarks (all, or those matching {@code only}), the force census and the scale probe. */
    static Results run(Plan plan, String only) throws RunnerException, IOException, InterruptedException {
        Results results = new Results();
        environment(results.environment, plan);
        Map<String, String> props = new LinkedHashMap<>();
        props.put("dmstack.bench.daxRegionMiB", Long.toString(plan.daxRegionMiB()));
        props.put("dmstack.bench.bioDeviceMiB", Long.toString(plan.bioDeviceMiB()));
        props.put("dmstack.bench.pmemDir", Stacks.pmemDir().toString());
        props.put("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        props.forEach(System::setProperty); // for forks = 0

        long t0 = System.nanoTime();
        jmh(results, plan, props, include(DaxBench.class, only), 1, true, DaxBench.QUIET, DaxBench.COPIES_APART);
        jmh(results, plan, props, include(BioBench.class, only), 1, false);
        jmh(results, plan, props, include(BioBench.class, only), 2, false);
        jmh(results, plan, props, include(BioRingBench.class, only), 1, false);
        jmh(results, plan, props, include(ScaleBench.class, only), 1, false);
        jmh(results, plan, props, include(FlushBench.class, only), 1, false);
        if (only == null || "PairedRatios".matches(".*(" + only + ").*")) {
            int forks = plan.smoke() ? 1 : PairedForks.forks();
            if (forks > 1) {
                // Each fork gets this JVM's options and the properties set above (region sizes, pmem folder).
                results.paired.addAll(PairedForks.run(forks, List.of()));
                results.paired.addAll(PairedForks.run(forks, List.of("bio")));
            } else {
                PairedRatios.Plan paired = plan.smoke() ? PairedRatios.Plan.smoke() : PairedRatios.Plan.full();
                results.paired.addAll(PairedRatios.dax(paired, plan.daxRegionMiB() << 20));
                results.paired.addAll(PairedRatios.bio(paired, plan.bioDeviceMiB() << 20));
            }
        }
        results.forces.putAll(ForceCensus.run());
        results.scale.addAll(ScaleProbe.run(Path.of(System.getProperty("java.io.tmpdir")), plan.probeIoBytes()));
        results.environment.put("duration", String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - t0) / 1e9));
        return results;
    }

    private static String include(Class<?> bench, String only) {
        String pattern = "^" + bench.getName().replace(".", "\\.") + "\\.";
        return only == null ? pattern : pattern + ".*(" + only + ")";
    }

    /**
     * One JMH run; with {@code gc}, its gc profiler too, whose bytes allocated per operation go to
     * {@link Results#allocations}. JMH's options replace the benchmark's own {@code @Fork} JVM
     * options, so those it needs come again as {@code forkOptions}.
     */
    private static void jmh(Results results, Plan plan, Map<String, String> props, String include, int threads, boolean gc, String... forkOptions)
            throws RunnerException {
        List<String> jvmArgs = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Djava.awt.headless=true"));
        jvmArgs.addAll(List.of(forkOptions));
        props.forEach((k, v) -> jvmArgs.add("-D" + k + "=" + v));
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(include)
                .forks(plan.forks())
                .threads(threads)
                .warmupIterations(plan.warmups())
                .warmupTime(plan.warmupTime())
                .measurementIterations(plan.iterations())
                .measurementTime(plan.iterationTime())
                .jvmArgsAppend(jvmArgs.toArray(String[]::new))
                .shouldFailOnError(true)
                .verbosity(plan.smoke() ? VerboseMode.SILENT : VerboseMode.NORMAL);
        if (gc) options.addProfiler(GCProfiler.class);
        Collection<RunResult> runs;
        try {
            runs = new Runner(options.build()).run();
        } catch (NoBenchmarksException e) {
            return; // --only matched nothing in this class (JMH's exception has no message, only a toString)
        } catch (RunnerException e) {
            if (e.getMessage() != null && e.getMessage().contains("No matching benchmarks")) return;
            throw e;
        }
        for (RunResult run : runs) {
            BenchmarkResult agg = run.getAggregatedResult();
            Result<?> primary = agg.getPrimaryResult();
            String name = run.getParams().getBenchmark();
            name = name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1);
            Map<String, String> params = new LinkedHashMap<>();
            for (String key : run.getParams().getParamsKeys()) params.put(key, run.getParams().getParam(key));
            boolean higherIsBetter = run.getParams().getMode() == Mode.Throughput;
            double best = Double.NaN;
            for (IterationResult it : agg.getIterationResults()) {
                double v = it.getPrimaryResult().getScore();
                if (Double.isNaN(best) || (higherIsBetter ? v > best : v < best)) best = v;
            }
            Result<?> allocated = agg.getSecondaryResults().get("gc.alloc.rate.norm");
            if (allocated != null) results.allocations.put(Results.allocationKey(name, params), allocated.getScore());
            results.measurements.add(new Results.Measurement(name, params, run.getParams().getThreads(), run.getParams().getMode().shortLabel(),
                    primary.getScore(), primary.getScoreError(), primary.getScoreUnit(), (int) primary.getSampleCount(), best));
            cpuPerOp(results, run, name, params);
        }
    }

    /** BioRingBench's CPU time over its bios ({@link BioRingBench.Cpu}), as a measurement NAME:cpuNsPerBio. */
    private static void cpuPerOp(Results results, RunResult run, String name, Map<String, String> params) {
        Map<String, Result> aux = run.getAggregatedResult().getSecondaryResults();
        Result<?> cpu = aux.get("cpuNanos");
        Result<?> bios = aux.get("bios");
        if (cpu == null || bios == null || bios.getScore() <= 0) return;
        double perBio = cpu.getScore() / bios.getScore();
        results.measurements.add(new Results.Measurement(name + ":cpuNsPerBio", params, run.getParams().getThreads(), "cpu",
                perBio, 0, "ns/bio", (int) cpu.getSampleCount(), perBio));
    }

    private static void environment(Map<String, String> env, Plan plan) {
        env.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        env.put("run", plan.smoke()
                ? "smoke (no forks, 1 x 50 ms warm-up, 1 x 100 ms measured: numbers not meaningful)"
                : "full (1 fork per benchmark, " + plan.warmups() + " x 1 s warm-up, " + plan.iterations() + " x 1 s measured; figures are the best iteration)");
        env.put("cpu", cpuModel());
        env.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        env.put("memory", Stacks.human(totalMemory()));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        env.put("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        env.put("pmem backing", Stacks.pmemDir() + " (" + ScaleProbe.fileSystem(Stacks.pmemDir()) + ")");
        env.put("DAX region", plan.daxRegionMiB() + " MiB per stack");
        env.put("DAX copies", DaxBench.copiesApart()
                ? "compiled apart (" + DaxBench.COPIES_APART + "): the stacks and the raw copies run the same compiled copy"
                : "inlined where called (" + DaxBench.COPIES_APART + " missing): the paired DAX ratios are not against a true limit");
        env.put("bio device", plan.bioDeviceMiB() + " MiB per stack, every page written");
        env.put("TCP congestion control", tcpCongestionControl());
    }

    /**
     * The system's TCP congestion control, which every NBD socket of the comparison starts with:
     * fio's, nbdkit's, qemu-nbd's; dmstack's export takes a pacing one (BBR) off its side of a
     * local connection. A client that paces delays its own WRITE payloads, whatever the server.
     */
    private static String tcpCongestionControl() {
        try {
            String cc = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_congestion_control")).trim();
            return cc + (cc.startsWith("bbr")
                    ? " (paces: fio's sockets send WRITE payloads paced; dmstack's export does not pace its side of a local connection, nbdkit and qemu-nbd do)"
                    : " (no pacing)");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static long totalMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return Runtime.getRuntime().maxMemory();
    }
}
