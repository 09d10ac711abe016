package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every stack asked for is measured, in order, with quartiles around the median. (The figures are the machine's: not asserted.) */
class DaxCallCostTest {
    @Test
    void everyStackGetsItsQuartiles() {
        Map<String, double[]> ns = DaxCallCost.measure(new String[] {"RAW_ITER", "DIRECT", "LINEAR"}, 4096, false, 3, 100);
        assertEquals(List.of("RAW_ITER", "DIRECT", "LINEAR"), List.copyOf(ns.keySet()));
        for (double[] q : ns.values()) assertTrue(q[0] > 0 && q[0] <= q[1] && q[1] <= q[2], java.util.Arrays.toString(q));
    }
}
