package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The paired method's arithmetic: quartiles, and when a ratio is called a measurement error. */
class PairedRatiosTest {
    @Test
    void quantilesInterpolateBetweenRanks() {
        double[] sorted = {0.8, 0.9, 1.0, 1.1};
        assertEquals(0.95, PairedRatios.quantile(sorted, 0.5), 1e-12);
        assertEquals(0.875, PairedRatios.quantile(sorted, 0.25), 1e-12);
        assertEquals(1.025, PairedRatios.quantile(sorted, 0.75), 1e-12);
        assertEquals(0.8, PairedRatios.quantile(sorted, 0), 1e-12);
    }

    @Test
    void aboveTheRawCopyOnlyWhenEvenTheLowerQuartileIs() {
        assertTrue(new PairedRatios.Ratio("x", "LINEAR", "RAW", 1.08, 1.02, 1.1, 15, true).aboveLimit());
        assertFalse(new PairedRatios.Ratio("x", "LINEAR", "RAW", 1.01, 0.97, 1.04, 15, true).aboveLimit(), "within the spread");
        assertFalse(new PairedRatios.Ratio("x", "LINEAR", "DIRECT", 1.2, 1.1, 1.3, 15, false).aboveLimit(), "brd is no physical limit");
        assertEquals("101% (97%-104%)", new PairedRatios.Ratio("x", "LINEAR", "RAW", 1.01, 0.97, 1.04, 15, true).format());
    }

    /** Every round runs both sides; the median lies between the quartiles. (Its value is the machine's: not asserted.) */
    @Test
    void everyRoundRunsBothSides() {
        int[] calls = new int[2];
        PairedRatios.Ratio r = PairedRatios.measure("same", "A", () -> ++calls[0], "B", () -> ++calls[1], false,
                new PairedRatios.Plan(1_000_000, 5, 1_000_000));
        assertEquals(5, r.rounds());
        assertTrue(calls[0] >= 6 * 16 && calls[1] >= 6 * 16, "each side ran in the warm-up and in every round");
        assertTrue(r.q1() > 0 && r.q1() <= r.median() && r.median() <= r.q3(), r.toString());
    }
}
