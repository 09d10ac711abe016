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

    @Test
    void coldAStackIsMeasuredBesideTheRawCopiesOfItsOwnMemory() {
        DaxCallCost.Positions at = DaxCallCost.Positions.over(1 << 20, 4096, true);
        assertEquals(256, at.pos().length);
        for (long p : at.pos()) assertTrue(p >= 0 && p < 1 << 20 && p % 4096 == 0, "position " + p);
        Map<String, double[]> ns = DaxCallCost.onOwnMemory("STRIPE2", 4096, true, 3, 100, at, 0);
        assertEquals(List.of("RAW", "RAW_ITER", "STRIPE2"), List.copyOf(ns.keySet()));
        for (double[] q : ns.values()) assertTrue(q[0] > 0 && q[0] <= q[1] && q[1] <= q[2], java.util.Arrays.toString(q));
    }

    @Test
    void withLoadsTheRawCopyTakesItsTurnsAfterThemTooAndStillMovesItsBytes() {
        DaxCallCost.Positions at = DaxCallCost.Positions.over(1 << 20, 4096, false);
        Map<String, double[]> ns = DaxCallCost.onOwnMemory("LINEAR", 4096, false, 3, 100, at, 24);
        assertEquals(List.of("RAW", "RAW_ITER", "LINEAR", "RAW_LOADS"), List.copyOf(ns.keySet()));
        long[] calls = {0};
        DaxCallCost.chainEnd = -1;
        assertEquals(4096, DaxCallCost.afterLoads(pos -> { calls[0]++; return 4096; }, 24).applyAsLong(0));
        assertEquals(1, calls[0], "the copy runs once, after the loads");
        assertEquals(24 % 16 * 16, DaxCallCost.chainEnd, "24 steps round the ring of 16 slots, 16 ints apart");
    }
}
