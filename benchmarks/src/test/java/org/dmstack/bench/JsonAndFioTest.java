package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonAndFioTest {
    @Test
    void jsonRoundTrips() {
        Object v = Json.parse("{\"a\": [1, 2.5, -3e2, true, null, \"x\\\"y\\n\\u00e9\"], \"b\": {}}");
        assertEquals(List.of(1.0, 2.5, -300.0, true), Json.list(Json.at(v, "a")).subList(0, 4));
        assertEquals("x\"y\né", Json.at(v, "a", 5));
        assertEquals(v, Json.parse(Json.write(v)));
        assertEquals(Double.NaN, Json.num(v, "missing", 3));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1] x"));
    }

    @Test
    void fioOutputIsReadOnWhicheverSideDidTheWork(@TempDir Path dir) throws Exception {
        // fio's nbd engine prints a line before the JSON.
        Files.writeString(dir.resolve("dmstack-randwrite-4k-qd1.json"), "fio: connected to NBD server\n"
                + "{\"jobs\": [{\"read\": {\"iops\": 0, \"bw_bytes\": 0, \"clat_ns\": {\"mean\": 0}},"
                + " \"write\": {\"iops\": 2000.5, \"bw_bytes\": 8194048, \"clat_ns\": {\"mean\": 480000.0}}}]}");
        Files.writeString(dir.resolve("nbdkit-randwrite-4k-qd1.json"),
                "{\"jobs\": [{\"read\": {\"iops\": 0}, \"write\": {\"iops\": 1000.25, \"bw_bytes\": 4097024, \"clat_ns\": {\"mean\": 990000}}}]}");
        List<FioResults.Row> rows = FioResults.read(dir);
        assertEquals(1, rows.size());
        FioResults.Row r = rows.getFirst();
        assertEquals(2000.5, r.dmstack().iops());
        assertEquals(480.0, r.dmstack().meanLatencyMicros());
        assertEquals(2000.5 / 1000.25, r.ratio(), 1e-9);
        String table = FioResults.table(rows);
        assertTrue(table.contains("| 4 KiB random write, QD 1 | 2,000 |") || table.contains("| 4 KiB random write, QD 1 | 2,001 |"), table);
        assertTrue(table.contains("| 200% |"), table);
    }

    @Test
    void environmentAndScaleRowsSurviveSaving(@TempDir Path dir) throws Exception {
        Results r = new Results();
        r.environment.put("cpu", "test");
        r.measurements.add(new Results.Measurement("DaxBench.read", Map.of("stack", "RAW", "size", "4096", "writeCache", "false"), 1, "thrpt",
                1e6, Double.NaN, "ops/s", 1, 1.1e6));
        r.scale.add(new ScaleProbe.Row("x", 1.5, "ms", "note"));
        r.save(dir.resolve("r.json"));
        Results back = Results.load(dir.resolve("r.json"));
        assertEquals("test", back.environment.get("cpu"));
        assertEquals(1e6, back.find("DaxBench.read", 1, "stack", "RAW").score());
        assertEquals(1.1e6, back.find("DaxBench.read", 1, "stack", "RAW").best());
        assertTrue(Double.isNaN(back.measurements.getFirst().error()));
        assertEquals(r.scale, back.scale);
    }
}
