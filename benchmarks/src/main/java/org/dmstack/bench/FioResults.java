package org.dmstack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The NBD comparison's results: fio's JSON output, one file per server, workload and round
 * ({@code <server>-<workload>-r<round>.json}, written by benchmarks/nbd-compare.sh), read back and
 * put side by side. The servers alternate within each round, so each round gives one ratio of
 * dmstack to each peer; a workload's figure is the median of those ratios, with their range, and
 * a {@link Verdict} on its goal. {@code main} prints the table the script shows at the end.
 */
public final class FioResults {
    /**
     * A workload: the name in the file names, what it means, the NBD connections fio opens (one per
     * job), and the ratio to each peer issue 15 asks for.
     */
    record Workload(String name, String description, int connections, double goal) {}

    /** The workloads, in the order the report lists them (nbd-compare.sh runs the same). */
    static final List<Workload> WORKLOADS = List.of(
            new Workload("randread-4k-qd1", "4 KiB random read, QD 1", 1, 1.0),
            new Workload("randread-4k-qd32", "4 KiB random read, QD 32", 1, 1.2),
            new Workload("randwrite-4k-qd1", "4 KiB random write, QD 1", 1, 1.0),
            new Workload("randwrite-4k-qd32", "4 KiB random write, QD 32", 1, 1.2),
            new Workload("read-1m-qd8", "1 MiB sequential read, QD 8", 1, 1.2),
            new Workload("write-1m-qd8", "1 MiB sequential write, QD 8", 1, 1.2),
            new Workload("randread-4k-4x8", "4 KiB random read, QD 32 over 4 connections (4 x 8)", 4, 1.2),
            new Workload("randwrite-4k-4x8", "4 KiB random write, QD 32 over 4 connections (4 x 8)", 4, 1.2),
            new Workload("read-1m-2x4", "1 MiB sequential read, QD 8 over 2 connections (2 x 4)", 2, 1.2),
            new Workload("write-1m-2x4", "1 MiB sequential write, QD 8 over 2 connections (2 x 4)", 2, 1.2));

    static final String[] SERVERS = {"dmstack", "nbdkit", "qemu-nbd"};
    /** What dmstack is compared with. */
    static final List<String> PEERS = List.of("nbdkit", "qemu-nbd");

    /**
     * One run of fio: operations and bytes per second, mean completion latency, and the server's
     * CPU time per request (user and system, from /proc/PID/stat over the run; NaN when not
     * recorded): unlike the rates, what a request costs the server hardly depends on what else
     * the machine runs; and fio's own (its usr_cpu and sys_cpu): a client that needs a whole core
     * caps what any server can show: {@code clientCores} is its CPU time over the run's time, per
     * job (1.0: each job's thread busy all the time, so no server could be answered faster).
     */
    record Run(double iops, double bytesPerSecond, double meanLatencyMicros, double cpuMicrosPerRequest, double clientCpuMicrosPerRequest,
            double clientCores) {
        static final Run MISSING = new Run(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

        boolean present() {
            return !Double.isNaN(iops);
        }
    }

    /** Per-round ratios of dmstack to a peer: their median and range, over the rounds both ran. */
    record Ratio(double median, double min, double max, int rounds) {
        static Ratio of(double[] ratios) {
            double[] sorted = Arrays.stream(ratios).filter(r -> !Double.isNaN(r)).sorted().toArray();
            if (sorted.length == 0) return new Ratio(Double.NaN, Double.NaN, Double.NaN, 0);
            return new Ratio(PairedRatios.quantile(sorted, 0.5), sorted[0], sorted[sorted.length - 1], sorted.length);
        }
    }

    /**
     * Whether the rounds show a goal met, by the sign test (one-sided, 5%): MET when so many rounds
     * reach the goal that a median ratio below it would give that many with a chance of 5% or
     * less, NOT_MET when as few do, UNDECIDED otherwise: more rounds are needed. A run on a noisy
     * machine thus says "undecided" rather than "met" or "not met" by chance; 5 rounds decide
     * only when all 5 agree, 9 when 8 do, 15 when 12 do.
     */
    enum Verdict {
        MET("met"), NOT_MET("not met"), UNDECIDED("undecided");

        /** The largest chance, under a median at the goal, of what was seen, for a verdict. */
        static final double LEVEL = 0.05;

        final String label;

        Verdict(String label) {
            this.label = label;
        }

        static Verdict of(double[] ratios, double goal) {
            int n = 0, reached = 0;
            for (double r : ratios) {
                if (Double.isNaN(r)) continue;
                n++;
                if (r >= goal) reached++;
            }
            if (n == 0) return UNDECIDED;
            if (atLeast(n, reached) <= LEVEL) return MET;
            if (atLeast(n, n - reached) <= LEVEL) return NOT_MET;
            return UNDECIDED;
        }

        /** The chance of {@code k} or more heads in {@code n} tosses of a fair coin. */
        static double atLeast(int n, int k) {
            double p = 0, c = 1; // c = C(n, i)
            for (int i = 0; i <= n; i++) {
                if (i >= k) p += c;
                c = c * (n - i) / (i + 1);
            }
            return p / Math.pow(2, n);
        }
    }

    /** One workload: every server's runs, round by round (a round that did not run is {@link Run#MISSING}). */
    record Row(Workload workload, Map<String, List<Run>> runs) {
        String description() {
            return workload.description();
        }

        List<Run> runs(String server) {
            return runs.getOrDefault(server, List.of());
        }

        /** The server's median IOPS over its rounds. */
        double iops(String server) {
            double[] v = rates(server);
            Arrays.sort(v);
            return v.length == 0 ? Double.NaN : PairedRatios.quantile(v, 0.5);
        }

        /** The server's median CPU time per request over its rounds, in microseconds; NaN when not recorded. */
        double cpuMicros(String server) {
            return median(server, Run::cpuMicrosPerRequest);
        }

        /** fio's median CPU time per request over its rounds against {@code server}, in microseconds. */
        double clientCpuMicros(String server) {
            return median(server, Run::clientCpuMicrosPerRequest);
        }

        /** fio's median CPU time over its run time against {@code server}, in cores. */
        double clientCores(String server) {
            return median(server, Run::clientCores);
        }

        private double median(String server, java.util.function.ToDoubleFunction<Run> figure) {
            double[] v = runs(server).stream().mapToDouble(figure).filter(c -> !Double.isNaN(c)).sorted().toArray();
            return v.length == 0 ? Double.NaN : PairedRatios.quantile(v, 0.5);
        }

        /** How far the server's rounds spread: (max - min) / median of its IOPS. */
        double spread(String server) {
            double[] v = rates(server);
            Arrays.sort(v);
            return v.length == 0 ? Double.NaN : (v[v.length - 1] - v[0]) / PairedRatios.quantile(v, 0.5);
        }

        /**
         * The chance, were dmstack's spread and {@code peer}'s alike, of dmstack's rounds spreading
         * as much wider as they do ({@link WiderSpread}); NaN without two rounds each.
         */
        double widerSpreadChance(String peer) {
            return WiderSpread.chance(rates("dmstack"), rates(peer));
        }

        /** The server's IOPS, round by round, over the rounds it ran. */
        private double[] rates(String server) {
            return runs(server).stream().filter(Run::present).mapToDouble(Run::iops).toArray();
        }

        /** dmstack over {@code peer}: the median and range of the per-round ratios. */
        Ratio ratio(String peer) {
            return Ratio.of(ratios(peer));
        }

        /** Whether dmstack's rounds against {@code peer} show the workload's goal met. */
        Verdict verdict(String peer) {
            return Verdict.of(ratios(peer), workload.goal());
        }

        /** dmstack over {@code peer}, round by round (NaN for a round one of them missed). */
        private double[] ratios(String peer) {
            List<Run> d = runs("dmstack"), p = runs(peer);
            double[] ratios = new double[Math.min(d.size(), p.size())];
            for (int i = 0; i < ratios.length; i++) ratios[i] = d.get(i).iops() / p.get(i).iops();
            return ratios;
        }
    }

    /**
     * One run of the mixed workload on one server: both fio jobs' operations (writes and verifying
     * reads) per second of their run, and the
     * tail of their completion latency (writes and verifying reads alike): the worse job's p99.9
     * and the longest of all. fio's percentiles are the upper edges of its histogram buckets, so
     * a p99.9 may read a little above the exact max.
     */
    record MixedRun(double iops, double p999Millis, double maxMillis) {}

    /**
     * The mixed workload on one server over its runs: the median IOPS, and the worst p99.9 and
     * max of any run (the goal is a max under 100 ms in every run, not on average).
     */
    record Tail(String server, List<MixedRun> runs) {
        double iops() {
            double[] v = runs.stream().mapToDouble(MixedRun::iops).sorted().toArray();
            return PairedRatios.quantile(v, 0.5);
        }

        double p999Millis() {
            return runs.stream().mapToDouble(MixedRun::p999Millis).max().orElse(Double.NaN);
        }

        double maxMillis() {
            return runs.stream().mapToDouble(MixedRun::maxMillis).max().orElse(Double.NaN);
        }
    }

    /** The mixed workload's goal: fio's longest completion under this, in every run (issue 18 item 9). */
    static final double MIXED_MAX_MILLIS = 100;

    private FioResults() {}

    /**
     * The mixed workload's tails found in {@code dir} ({@code <server>-mixed-r<run>-<job>.json}),
     * one per server that ran it.
     */
    static List<Tail> mixed(Path dir) throws IOException {
        List<Tail> tails = new ArrayList<>();
        for (String server : SERVERS) {
            List<MixedRun> runs = new ArrayList<>();
            for (int run = 1; ; run++) {
                MixedRun r = mixedRun(dir, server + "-mixed-r" + run + "-");
                if (r == null) break;
                runs.add(r);
            }
            if (!runs.isEmpty()) tails.add(new Tail(server, runs));
        }
        return tails;
    }

    /** The run whose two jobs' files start with {@code prefix}; null when there is none. */
    private static MixedRun mixedRun(Path dir, String prefix) throws IOException {
        double iops = 0, p999 = Double.NaN, max = Double.NaN;
        boolean any = false;
        for (int job = 1; job <= 2; job++) {
            Path file = dir.resolve(prefix + job + ".json");
            if (!Files.exists(file)) continue;
            String text = Files.readString(file);
            int start = text.indexOf('{');
            if (start < 0) continue;
            Object root = Json.parse(text.substring(start));
            // Operations over the job's run time: fio's own read "iops" covers only the verifying
            // reads' short phase, and reads as hundreds of millions per second.
            double seconds = Json.num(root, "jobs", 0, "job_runtime") / 1000;
            for (String side : new String[] {"write", "read"}) {
                if (Json.num(root, "jobs", 0, side, "clat_ns", "N") == 0) continue;
                any = true;
                if (seconds > 0) iops += Json.num(root, "jobs", 0, side, "total_ios") / seconds;
                p999 = worse(p999, Json.num(root, "jobs", 0, side, "clat_ns", "percentile", "99.900000") / 1e6);
                max = worse(max, Json.num(root, "jobs", 0, side, "clat_ns", "max") / 1e6);
            }
        }
        return any ? new MixedRun(iops, p999, max) : null;
    }

    private static double worse(double a, double b) {
        return Double.isNaN(a) ? b : Math.max(a, b);
    }

    /** The mixed workload's table, as markdown: per server, the runs' figures, then each run's max. */
    static String mixedTable(List<Tail> tails) {
        StringBuilder sb = new StringBuilder();
        sb.append("| mixed workload | runs | IOPS (median) | p99.9 completion latency, worst run (ms) | max completion latency, worst run (ms) | max of each run (ms) |\n")
                .append("|---|---:|---:|---:|---:|---|\n");
        for (Tail t : tails) {
            sb.append("| ").append(t.server()).append(" | ").append(t.runs().size()).append(" | ").append(fmt(t.iops())).append(" | ")
                    .append(millis(t.p999Millis())).append(" | ").append(millis(t.maxMillis())).append(" | ");
            for (int i = 0; i < t.runs().size(); i++) sb.append(i == 0 ? "" : ", ").append(millis(t.runs().get(i).maxMillis()));
            sb.append(" |\n");
        }
        return sb.toString();
    }

    private static String millis(double ms) {
        return String.format(Locale.ROOT, "%.1f", ms);
    }

    /** The rows found in {@code dir} (workloads with no file at all are left out). */
    static List<Row> read(Path dir) throws IOException {
        List<Row> rows = new ArrayList<>();
        if (!Files.isDirectory(dir)) return rows;
        for (Workload w : WORKLOADS) {
            Map<String, List<Run>> runs = new LinkedHashMap<>();
            boolean any = false;
            for (String server : SERVERS) {
                List<Run> rounds = new ArrayList<>();
                for (int round = 1; Files.exists(dir.resolve(server + "-" + w.name() + "-r" + round + ".json")); round++) {
                    rounds.add(run(dir.resolve(server + "-" + w.name() + "-r" + round + ".json")));
                }
                runs.put(server, rounds);
                any |= !rounds.isEmpty();
            }
            if (any) rows.add(new Row(w, runs));
        }
        return rows;
    }

    /**
     * One fio JSON file; its read or write side, whichever did the work. The server's CPU time over
     * the run, in microseconds, is in a file beside it ({@code .cpu} for {@code .json}), if there.
     */
    static Run run(Path file) throws IOException {
        if (!Files.exists(file)) return Run.MISSING;
        String text = Files.readString(file);
        int start = text.indexOf('{');
        if (start < 0) return Run.MISSING; // fio failed before writing JSON
        Object root = Json.parse(text.substring(start));
        double readIops = Json.num(root, "jobs", 0, "read", "iops");
        double writeIops = Json.num(root, "jobs", 0, "write", "iops");
        String side = writeIops > readIops ? "write" : "read";
        Path cpuFile = file.resolveSibling(file.getFileName().toString().replaceFirst("\\.json$", ".cpu"));
        double ios = Json.num(root, "jobs", 0, "read", "total_ios") + Json.num(root, "jobs", 0, "write", "total_ios");
        double cpu = Files.exists(cpuFile) && ios > 0 ? Double.parseDouble(Files.readString(cpuFile).strip()) / ios : Double.NaN;
        // usr_cpu and sys_cpu: percent of the job's run time (job_runtime, ms).
        double cores = (Json.num(root, "jobs", 0, "usr_cpu") + Json.num(root, "jobs", 0, "sys_cpu")) / 100;
        double client = cores * Json.num(root, "jobs", 0, "job_runtime") * 1000 / ios;
        return new Run(Json.num(root, "jobs", 0, side, "iops"), Json.num(root, "jobs", 0, side, "bw_bytes"),
                Json.num(root, "jobs", 0, side, "clat_ns", "mean") / 1000.0, cpu, ios > 0 ? client : Double.NaN, ios > 0 ? cores : Double.NaN);
    }

    /**
     * The side-by-side table, as markdown: each server's median IOPS (1 MiB workloads: MiB/s) with
     * the spread of its rounds, dmstack's per-round ratio to each peer, median (min-max), and the
     * verdict on the goal against nbdkit, the peer issue 15 sets it against.
     */
    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder("| workload | rounds |");
        for (String s : SERVERS) sb.append(' ').append(s).append(" IOPS (spread) |");
        for (String p : PEERS) sb.append(" dmstack / ").append(p).append(" |");
        sb.append(" goal | verdict (").append(PEERS.getFirst()).append(") |\n|---|---:|")
                .append("---:|".repeat(SERVERS.length + PEERS.size())).append("---:|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.description()).append(" | ").append(r.ratio(PEERS.getFirst()).rounds()).append(" |");
            for (String s : SERVERS) sb.append(' ').append(fmt(r.iops(s))).append(" (").append(pct(r.spread(s))).append(") |");
            for (String p : PEERS) sb.append(' ').append(ratio(r.ratio(p))).append(" |");
            sb.append(" >= ").append(pct(r.workload().goal())).append(" | ").append(r.verdict(PEERS.getFirst()).label).append(" |\n");
        }
        return sb.toString();
    }

    /**
     * Each server's CPU time per request, and fio's against it with, in brackets, fio's share of a
     * core over the run, per job (one job, one thread, one connection; medians of the rounds), as
     * markdown; empty when no run recorded the server's.
     */
    static String cpuTable(List<Row> rows) {
        if (rows.stream().allMatch(r -> Arrays.stream(SERVERS).allMatch(s -> Double.isNaN(r.cpuMicros(s))))) return "";
        StringBuilder sb = new StringBuilder("| CPU per request (µs, median of rounds): server, and fio against it (fio's share of a core per job) |");
        for (String s : SERVERS) sb.append(' ').append(s).append(" |");
        sb.append("\n|---|").append("---:|".repeat(SERVERS.length)).append('\n');
        for (Row r : rows) {
            sb.append("| ").append(r.description()).append(" |");
            for (String s : SERVERS) sb.append(' ').append(micros(r.cpuMicros(s))).append(", fio ").append(micros(r.clientCpuMicros(s))).append(" (")
                    .append(pct(r.clientCores(s))).append(") |");
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String micros(double us) {
        return Double.isNaN(us) ? "n/a" : String.format(Locale.ROOT, us < 100 ? "%.1f" : "%.0f", us);
    }

    /** A ratio as "112% (105-118%)". */
    static String ratio(Ratio r) {
        if (Double.isNaN(r.median())) return "n/a";
        return pct(r.median()) + " (" + String.format(Locale.ROOT, "%.0f", r.min() * 100) + "–" + pct(r.max()) + ")";
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "n/a";
        return ScaleProbe.format(v);
    }

    static String pct(double ratio) {
        if (Double.isNaN(ratio)) return "n/a";
        return String.format(Locale.ROOT, "%.0f%%", ratio * 100);
    }

    /** {@code FioResults DIR}: prints the side-by-side table of the fio results in DIR. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: FioResults DIR");
            System.exit(2);
        }
        List<Row> rows = read(Path.of(args[0]));
        List<Tail> tails = mixed(Path.of(args[0]));
        if (rows.isEmpty() && tails.isEmpty()) {
            System.err.println("no fio results in " + args[0]);
            System.exit(1);
        }
        if (!rows.isEmpty()) System.out.print(table(rows) + "\n");
        String cpu = cpuTable(rows);
        if (!cpu.isEmpty()) System.out.print(cpu + "\n");
        if (!tails.isEmpty()) System.out.print(mixedTable(tails));
    }
}
