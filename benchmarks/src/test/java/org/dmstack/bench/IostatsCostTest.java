package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.TimeValue;

/** The accounting-cost runner runs both sides of a pair on every stack and tabulates them (no timing is checked). */
class IostatsCostTest {
    @Test
    void pairsForEveryStack() throws Exception {
        System.setProperty("dmstack.bench.bioDeviceMiB", "8");
        Map<String, List<IostatsCost.Pair>> all = IostatsCost.run(2, TimeValue.milliseconds(20), List.of("randRead4k"));
        assertEquals(List.of("DIRECT randRead4k", "LINEAR randRead4k", "STRIPE2 randRead4k"), List.copyOf(all.keySet()));
        for (List<IostatsCost.Pair> pairs : all.values()) {
            assertEquals(2, pairs.size());
            for (IostatsCost.Pair p : pairs) assertTrue(p.on() > 0 && p.off() > 0 && p.cpuOn() > 0 && p.cpuOff() > 0, p.toString());
        }
        String table = IostatsCost.table(all);
        assertEquals(5, table.split("\n").length, table);
        assertTrue(table.contains("| LINEAR | randRead4k | "), table);
        assertEquals(0.5, IostatsCost.median(List.of(0.0, 1.0)));
        assertEquals(-0.25, new IostatsCost.Pair(1.25, 1.0, 100, 100).wallLoss());
        assertEquals(0.2, new IostatsCost.Pair(1, 1, 100, 80).loss(), 1e-9);
    }
}
