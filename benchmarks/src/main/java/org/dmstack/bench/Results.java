package org.dmstack.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one run measured, as saved in {@code results.json} and read back by {@link Report}:
 * the JMH results, forces per DAX operation, the scale probe and facts about the machine. The fio
 * results stay in their own folder and are read from there.
 */
final class Results {
    /**
     * One JMH result: benchmark (Class.method), its parameters, threads, mode, the mean score ±
     * error, and the best measured iteration (highest throughput, lowest time), which the report
     * uses: on a machine shared with other work, noise only ever makes an iteration slower.
     */
    record Measurement(String benchmark, Map<String, String> params, int threads, String mode, double score, double error,
            String unit, int samples, double best) {
        String param(String name) {
            return params.get(name);
        }
    }

    final Map<String, String> environment = new LinkedHashMap<>();
    final List<Measurement> measurements = new ArrayList<>();
    final Map<String, Double> forces = new LinkedHashMap<>();
    /** Bytes allocated per operation (JMH's gc.alloc.rate.norm) of the DAX benchmarks, by {@link #allocationKey}. */
    final Map<String, Double> allocations = new LinkedHashMap<>();
    final List<ScaleProbe.Row> scale = new ArrayList<>();
    /** Ratios measured in alternating rounds ({@link PairedRatios}): what the goals are judged by. */
    final List<PairedRatios.Ratio> paired = new ArrayList<>();

    /** The key of a benchmark's allocation figure: its name and parameters, as {@code DaxBench.read {size=4096, ...}}. */
    static String allocationKey(String benchmark, Map<String, String> params) {
        return benchmark + " " + params;
    }

    /** The paired ratio called {@code what}, or null. */
    PairedRatios.Ratio paired(String what) {
        for (PairedRatios.Ratio p : paired) if (p.what().equals(what)) return p;
        return null;
    }

    /** The measurement of {@code benchmark} whose parameters include all of {@code params} (name, value, ...), or null. */
    Measurement find(String benchmark, int threads, String... params) {
        outer:
        for (Measurement m : measurements) {
            if (!m.benchmark().equals(benchmark) || (threads > 0 && m.threads() != threads)) continue;
            for (int i = 0; i < params.length; i += 2) {
                if (!params[i + 1].equals(m.params().get(params[i]))) continue outer;
            }
            return m;
        }
        return null;
    }

    void save(Path file) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("environment", environment);
        List<Object> ms = new ArrayList<>();
        for (Measurement m : measurements) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("benchmark", m.benchmark());
            o.put("params", m.params());
            o.put("threads", m.threads());
            o.put("mode", m.mode());
            o.put("score", m.score());
            o.put("error", m.error());
            o.put("unit", m.unit());
            o.put("samples", m.samples());
            o.put("best", m.best());
            ms.add(o);
        }
        root.put("measurements", ms);
        root.put("forcesPerOperation", forces);
        root.put("bytesAllocatedPerOperation", allocations);
        List<Object> rows = new ArrayList<>();
        for (ScaleProbe.Row r : scale) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("what", r.what());
            o.put("value", r.value());
            o.put("unit", r.unit());
            o.put("note", r.note());
            rows.add(o);
        }
        root.put("scale", rows);
        List<Object> pairs = new ArrayList<>();
        for (PairedRatios.Ratio p : paired) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("what", p.what());
            o.put("contender", p.contender());
            o.put("baseline", p.baseline());
            o.put("median", p.median());
            o.put("q1", p.q1());
            o.put("q3", p.q3());
            o.put("rounds", p.rounds());
            o.put("baselineIsLimit", p.baselineIsLimit());
            o.put("forks", p.forks());
            pairs.add(o);
        }
        root.put("paired", pairs);
        Files.writeString(file, Json.write(root));
    }

    static Results load(Path file) throws IOException {
        Object root = Json.parse(Files.readString(file));
        Results r = new Results();
        Json.obj(Json.at(root, "environment")).forEach((k, v) -> r.environment.put(k, String.valueOf(v)));
        for (Object o : Json.list(Json.at(root, "measurements"))) {
            Map<String, String> params = new LinkedHashMap<>();
            Json.obj(Json.at(o, "params")).forEach((k, v) -> params.put(k, String.valueOf(v)));
            r.measurements.add(new Measurement((String) Json.at(o, "benchmark"), params, (int) Json.num(o, "threads"),
                    (String) Json.at(o, "mode"), Json.num(o, "score"), Json.num(o, "error"), (String) Json.at(o, "unit"),
                    (int) Json.num(o, "samples"), Json.num(o, "best")));
        }
        Json.obj(Json.at(root, "forcesPerOperation")).forEach((k, v) -> r.forces.put(k, ((Number) v).doubleValue()));
        Object allocations = Json.at(root, "bytesAllocatedPerOperation");
        if (allocations != null) Json.obj(allocations).forEach((k, v) -> r.allocations.put(k, ((Number) v).doubleValue()));
        for (Object o : Json.list(Json.at(root, "scale"))) {
            r.scale.add(new ScaleProbe.Row((String) Json.at(o, "what"), Json.num(o, "value"), (String) Json.at(o, "unit"),
                    (String) Json.at(o, "note")));
        }
        Object pairs = Json.at(root, "paired");
        if (pairs != null) {
            for (Object o : Json.list(pairs)) {
                r.paired.add(new PairedRatios.Ratio((String) Json.at(o, "what"), (String) Json.at(o, "contender"), (String) Json.at(o, "baseline"),
                        Json.num(o, "median"), Json.num(o, "q1"), Json.num(o, "q3"), (int) Json.num(o, "rounds"), Boolean.TRUE.equals(Json.at(o, "baselineIsLimit")),
                        Json.at(o, "forks") == null ? 1 : (int) Json.num(o, "forks")));
            }
        }
        return r;
    }
}
