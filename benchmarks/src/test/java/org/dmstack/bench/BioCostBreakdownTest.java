package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Every step of a read is measured, each beside the step it builds on. */
class BioCostBreakdownTest {
    @Test
    void aStepIsTheMedianOfThePerRoundDifferencesFromTheStepItBuildsOn() {
        double[][] ns = new double[7][];
        for (int i = 0; i < 7; i++) ns[i] = new double[] {100 + 10 * i, 300 + 10 * i, 101 + 10 * i};
        ns[4] = new double[] {150, 350, 151}; // submit and await builds on the page store (120, 320, 121): +30 each round
        List<String> lines = BioCostBreakdown.lines(ns);
        assertEquals(BioCostBreakdown.STEPS.size(), lines.size());
        assertEquals("raw, 1 buffer            101.0 ns (100.5 to 200.5)", lines.get(0));
        assertEquals("brd, submit and await    151.0 ns (150.5 to 250.5)  +30.0 over page store", lines.get(4));
        assertTrue(lines.get(6).endsWith("+10.0 over brd, ring of 32"), lines.get(6));
    }

    /** (The figures are the machine's: not asserted.) */
    @Test
    void everyStepRunsOnASmallDevice() {
        List<String> lines = BioCostBreakdown.measure(1 << 20, 4096, 3, 200);
        for (int i = 0; i < lines.size(); i++) assertTrue(lines.get(i).startsWith(BioCostBreakdown.STEPS.get(i)), lines.get(i));
    }
}
