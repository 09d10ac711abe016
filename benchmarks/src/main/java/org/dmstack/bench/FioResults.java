package org.dmstack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The NBD comparison's results: fio's JSON output, one file per server and workload
 * ({@code <server>-<workload>.json}, written by benchmarks/nbd-compare.sh), read back and put side
 * by side. {@code main} prints the table the script shows at the end.
 */
public final class FioResults {
    /** The workloads, in the order the report lists them, with what each means. */
    static final List<String[]> WORKLOADS = List.of(
            new String[] {"randread-4k-qd1", "4 KiB random read, QD 1"},
            new String[] {"randread-4k-qd32", "4 KiB random read, QD 32"},
            new String[] {"randwrite-4k-qd1", "4 KiB random write, QD 1"},
            new String[] {"randwrite-4k-qd32", "4 KiB random write, QD 32"},
            new String[] {"read-1m", "1 MiB sequential read, QD 1"},
            new String[] {"write-1m", "1 MiB sequential write, QD 1"});

    static final String[] SERVERS = {"dmstack", "nbdkit"};

    /** One run of fio: operations and bytes per second, mean completion latency. */
    record Run(double iops, double bytesPerSecond, double meanLatencyMicros) {
        static final Run MISSING = new Run(Double.NaN, Double.NaN, Double.NaN);

        boolean present() {
            return !Double.isNaN(iops);
        }
    }

    /** One workload on both servers. */
    record Row(String workload, String description, Run dmstack, Run nbdkit) {
        /** dmstack's throughput over nbdkit's (1.0 = the same). */
        double ratio() {
            return dmstack.iops() / nbdkit.iops();
        }
    }

    /**
     * The mixed workload on one server: both fio jobs' operations per second, and the tail of
     * their completion latency (writes and verifying reads alike): the worse job's p99.9 and
     * the longest of all. fio's percentiles are the upper edges of its histogram buckets, so a
     * p99.9 may read a little above the exact max.
     */
    record Tail(String server, double iops, double p999Millis, double maxMillis) {}

    private FioResults() {}

    /** The mixed workload's tails found in {@code dir}, one per server that ran it. */
    static List<Tail> mixed(Path dir) throws IOException {
        List<Tail> tails = new ArrayList<>();
        for (String server : SERVERS) {
            double iops = 0, p999 = Double.NaN, max = Double.NaN;
            boolean any = false;
            for (int job = 1; job <= 2; job++) {
                Path file = dir.resolve(server + "-mixed-" + job + ".json");
                if (!Files.exists(file)) continue;
                String text = Files.readString(file);
                int start = text.indexOf('{');
                if (start < 0) continue;
                Object root = Json.parse(text.substring(start));
                for (String side : new String[] {"write", "read"}) {
                    if (Json.num(root, "jobs", 0, side, "clat_ns", "N") == 0) continue;
                    any = true;
                    iops += Json.num(root, "jobs", 0, side, "iops");
                    p999 = worse(p999, Json.num(root, "jobs", 0, side, "clat_ns", "percentile", "99.900000") / 1e6);
                    max = worse(max, Json.num(root, "jobs", 0, side, "clat_ns", "max") / 1e6);
                }
            }
            if (any) tails.add(new Tail(server, iops, p999, max));
        }
        return tails;
    }

    private static double worse(double a, double b) {
        return Double.isNaN(a) ? b : Math.max(a, b);
    }

    /** The mixed workload's table, as markdown. */
    static String mixedTable(List<Tail> tails) {
        StringBuilder sb = new StringBuilder();
        sb.append("| mixed workload | IOPS | p99.9 completion latency (ms) | max completion latency (ms) |\n|---|---:|---:|---:|\n");
        for (Tail t : tails) {
            sb.append("| ").append(t.server()).append(" | ").append(fmt(t.iops())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f", t.p999Millis())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.1f", t.maxMillis())).append(" |\n");
        }
        return sb.toString();
    }

    /** The rows found in {@code dir} (workloads with no file on either side are left out). */
    static List<Row> read(Path dir) throws IOException {
        List<Row> rows = new ArrayList<>();
        if (!Files.isDirectory(dir)) return rows;
        for (String[] w : WORKLOADS) {
            Run d = run(dir.resolve("dmstack-" + w[0] + ".json"));
            Run n = run(dir.resolve("nbdkit-" + w[0] + ".json"));
            if (d.present() || n.present()) rows.add(new Row(w[0], w[1], d, n));
        }
        return rows;
    }

    /** One fio JSON file; its read or write side, whichever did the work. */
    static Run run(Path file) throws IOException {
        if (!Files.exists(file)) return Run.MISSING;
        String text = Files.readString(file);
        int start = text.indexOf('{');
        if (start < 0) return Run.MISSING; // fio failed before writing JSON
        Object root = Json.parse(text.substring(start));
        double readIops = Json.num(root, "jobs", 0, "read", "iops");
        double writeIops = Json.num(root, "jobs", 0, "write", "iops");
        String side = writeIops > readIops ? "write" : "read";
        return new Run(Json.num(root, "jobs", 0, side, "iops"), Json.num(root, "jobs", 0, side, "bw_bytes"),
                Json.num(root, "jobs", 0, side, "clat_ns", "mean") / 1000.0);
    }

    /** The side-by-side table, as markdown. */
    static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| workload | dmstack IOPS | dmstack MiB/s | dmstack mean lat (µs) | nbdkit IOPS | nbdkit MiB/s | nbdkit mean lat (µs) | dmstack / nbdkit |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.description()).append(" | ")
                    .append(fmt(r.dmstack().iops())).append(" | ").append(fmt(r.dmstack().bytesPerSecond() / (1 << 20))).append(" | ")
                    .append(fmt(r.dmstack().meanLatencyMicros())).append(" | ")
                    .append(fmt(r.nbdkit().iops())).append(" | ").append(fmt(r.nbdkit().bytesPerSecond() / (1 << 20))).append(" | ")
                    .append(fmt(r.nbdkit().meanLatencyMicros())).append(" | ")
                    .append(Double.isNaN(r.ratio()) ? "n/a" : pct(r.ratio())).append(" |\n");
        }
        return sb.toString();
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "n/a";
        return ScaleProbe.format(v);
    }

    static String pct(double ratio) {
        return String.format(Locale.ROOT, "%.0f%%", ratio * 100);
    }

    /** {@code FioResults DIR}: prints the side-by-side table of the fio results in DIR. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: FioResults DIR");
            System.exit(2);
        }
        List<Row> rows = read(Path.of(args[0]));
        if (rows.isEmpty()) {
            System.err.println("no fio results in " + args[0]);
            System.exit(1);
        }
        System.out.print(table(rows));
        List<Tail> tails = mixed(Path.of(args[0]));
        if (!tails.isEmpty()) System.out.print("\n" + mixedTable(tails));
    }
}
