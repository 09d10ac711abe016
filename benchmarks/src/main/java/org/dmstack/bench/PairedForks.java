package org.dmstack.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@link PairedRatios} over several JVMs, as JMH forks: one JVM measures where its buffers and
 * the stack's objects happened to lie and what its JIT happened to compile, and at 4 KiB two JVMs
 * of the same build, minutes apart on a quiet machine, differed by up to 31 points. Each fork is a
 * fresh JVM with this one's options and {@code dmstack.bench.*} properties that measures every pair
 * in its own paired rounds; a pair's result is the median of the forks' medians, with their range.
 */
final class PairedForks {
    /** The system property that asks for forks (default 1: everything in the calling JVM). */
    static final String FORKS = "dmstack.bench.forks";

    /** The first argument of a fork's main: print machine lines, fork no further. */
    static final String FORK = "--fork";

    private static final String PREFIX = "paired\t";

    private PairedForks() {}

    static int forks() {
        return Integer.getInteger(FORKS, 1);
    }

    /** Runs {@code forks} JVMs of {@code PairedRatios args}, one after the other, and combines their ratios. */
    static List<PairedRatios.Ratio> run(int forks, List<String> args) throws IOException, InterruptedException {
        List<List<PairedRatios.Ratio>> runs = new ArrayList<>();
        for (int f = 1; f <= forks; f++) {
            System.err.printf(Locale.ROOT, "== PairedRatios fork %d of %d%s%n", f, forks, args.isEmpty() ? "" : ": " + String.join(" ", args));
            runs.add(fork(args));
        }
        return combine(runs);
    }

    private static List<PairedRatios.Ratio> fork(List<String> args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(args)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<PairedRatios.Ratio> ratios = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null;) {
                if (line.startsWith(PREFIX)) ratios.add(parse(line));
                else System.out.println(line);
            }
        }
        int status = p.waitFor();
        if (status != 0) throw new IOException("a PairedRatios fork exited with status " + status);
        return ratios;
    }

    /** This JVM's java, options and dmstack.bench properties (but the forks), class path, and PairedRatios --fork args. */
    static List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-Ddmstack.bench.")) cmd.add(option);
        }
        // From the properties, not the options: RunAll sets its own in the running JVM.
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("dmstack.bench.") && !k.equals(FORKS)).sorted()
                .forEach(k -> cmd.add("-D" + k + "=" + System.getProperty(k)));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(PairedRatios.class.getName());
        cmd.add(FORK);
        cmd.addAll(args);
        return cmd;
    }

    /** A fork's result as one line of its standard output. */
    static String line(PairedRatios.Ratio r) {
        return PREFIX + String.join("\t", r.what(), r.contender(), r.baseline(), Double.toString(r.median()), Double.toString(r.q1()),
                Double.toString(r.q3()), Integer.toString(r.rounds()), Boolean.toString(r.baselineIsLimit()));
    }

    static PairedRatios.Ratio parse(String line) {
        String[] f = line.substring(PREFIX.length()).split("\t");
        return new PairedRatios.Ratio(f[0], f[1], f[2], Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]),
                Integer.parseInt(f[6]), Boolean.parseBoolean(f[7]));
    }

    /** Per pair, in the order first measured: the median of the forks' medians, and their lowest and highest. */
    static List<PairedRatios.Ratio> combine(List<List<PairedRatios.Ratio>> runs) {
        Map<String, List<PairedRatios.Ratio>> byPair = new LinkedHashMap<>();
        for (List<PairedRatios.Ratio> run : runs) {
            for (PairedRatios.Ratio r : run) byPair.computeIfAbsent(r.what(), k -> new ArrayList<>()).add(r);
        }
        List<PairedRatios.Ratio> out = new ArrayList<>();
        for (List<PairedRatios.Ratio> forks : byPair.values()) {
            double[] medians = forks.stream().mapToDouble(PairedRatios.Ratio::median).sorted().toArray();
            PairedRatios.Ratio first = forks.get(0);
            // A fork may have chosen another raw copy as the limit: name the one most chose.
            String baseline = mostCommon(forks.stream().map(PairedRatios.Ratio::baseline).toList());
            out.add(new PairedRatios.Ratio(first.what(), first.contender(), baseline, PairedRatios.quantile(medians, 0.5), medians[0],
                    medians[medians.length - 1], first.rounds(), first.baselineIsLimit(), forks.size()));
        }
        return out;
    }

    private static String mostCommon(List<String> names) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String n : names) counts.merge(n, 1, Integer::sum);
        return counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }
}
