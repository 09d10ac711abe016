package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** dm's cost per bio is the median of the per-round differences; every stack asked for is measured beside its disks. */
class BioCallCostTest {
    @Test
    void theExcessIsTheMedianOfThePerRoundDifferencesNotTheDifferenceOfMedians() {
        double[] direct = {60, 100, 62, 61, 64};
        double[] stack = {90, 128, 95, 150, 93};
        BioCallCost.Cost c = BioCallCost.cost("LINEAR", "read 512 B on 4 MiB", direct, stack);
        // Differences 30, 28, 33, 89, 29: median 30, quartiles 29 and 33.
        assertEquals(30, c.excess(), 1e-12);
        assertEquals(29, c.q1(), 1e-12);
        assertEquals(33, c.q3(), 1e-12);
        assertEquals(62, c.direct(), 1e-12);
        assertEquals(95, c.stack(), 1e-12);
        assertEquals("LINEAR   read 512 B on 4 MiB: DIRECT 62.0, LINEAR 95.0 ns/bio: dm +30.0 (+29.0 to +33.0)", c.line());
    }

    @Test
    void sidesTakeTurnsAndEveryRoundIsTimed() {
        int[] calls = new int[2];
        double[][] ns = BioCallCost.turns(new PairedRatios.Op[] {() -> ++calls[0], () -> ++calls[1]}, 3, 100);
        assertEquals(2, ns.length);
        assertEquals(3, ns[0].length);
        assertEquals(800, calls[0], "five rounds of warm-up and three measured, 100 bios each");
        assertEquals(800, calls[1]);
    }

    /** (The figures are the machine's: not asserted.) */
    @Test
    void everyStackIsMeasuredBesideItsOwnDisks() {
        List<BioCallCost.Cost> costs = BioCallCost.measure(new String[] {"LINEAR", "STRIPE2"}, 1 << 20, 4096, true, 3, 200);
        assertEquals(List.of("LINEAR", "STRIPE2"), costs.stream().map(BioCallCost.Cost::layer).toList());
        for (BioCallCost.Cost c : costs) {
            assertEquals("write 4096 B on 1 MiB", c.what());
            assertTrue(c.direct() > 0 && c.stack() > 0 && c.q1() <= c.excess() && c.excess() <= c.q3(), c.toString());
        }
    }
}
