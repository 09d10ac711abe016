package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The permutation test of spreads, on cases whose chance can be counted by hand. */
class WiderSpreadTest {
    @Test
    void theChanceIsTheShareOfDealsAtLeastAsFarApart() {
        // Distances from the medians, in logs: 0, ln 2, ln 2 against 0, ~0.01, ~0.01. Of the 20 deals
        // of three, those with both ln 2 reach the sum seen, whatever their third: 4 of them.
        assertEquals(4 / 20.0, WiderSpread.chance(new double[] {100, 200, 50}, new double[] {100, 101, 99}), 1e-12);
    }

    @Test
    void nineWildRoundsAgainstNineSteadyOnesAreWiderBeyondChance() {
        double[] wild = {1000, 2000, 500, 3000, 400, 1500, 700, 2500, 300};
        double[] steady = {1000, 1001, 999, 1002, 998, 1003, 997, 1004, 996};
        // The 8 largest distances are the wild rounds' own; any of the other 10 completes a deal as extreme.
        assertEquals(10.0 / 48620, WiderSpread.chance(wild, steady), 1e-12);
        assertTrue(WiderSpread.chance(steady, wild) > 0.99, "the steady rounds are not the wider");
    }

    @Test
    void theSameRoundsOnBothSidesAreNoEvidence() {
        double[] rounds = {1000, 1200, 900, 1100, 950};
        assertTrue(WiderSpread.chance(rounds, rounds.clone()) > 0.5);
    }

    @Test
    void aSwingOfTheWholeMachineWeighsTheSameAtAnyRate() {
        double[] slow = {100, 150, 100, 150, 100, 150};
        double[] fast = {1000, 1500, 1000, 1500, 1000, 1500};
        assertEquals(WiderSpread.chance(slow, fast), WiderSpread.chance(fast, slow), 1e-12);
    }

    @Test
    void manyRoundsAreDrawnAtRandomTheSameWayEachTime() {
        double[] wild = new double[20], steady = new double[20];
        for (int i = 0; i < 20; i++) {
            wild[i] = 1000 * (1 + (i % 5) * 0.4);
            steady[i] = 1000 + (i % 3);
        }
        double chance = WiderSpread.chance(wild, steady); // C(40, 20) deals: drawn
        assertTrue(chance < 0.001, "wider beyond chance: " + chance);
        assertEquals(chance, WiderSpread.chance(wild, steady));
    }

    @Test
    void fewerThanTwoRoundsDecideNothing() {
        assertTrue(Double.isNaN(WiderSpread.chance(new double[] {1}, new double[] {1, 2})));
    }
}
