package org.dmstack.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The paired method: its arithmetic (quartiles, when a ratio is a measurement error), its rounds, and its threads. */
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

    /** With threads, each op runs on a thread of its own, the same threads all along, in the warm-up and every round. */
    @Test
    void threadsRunTheirOwnOpsTogether() {
        int threads = 2;
        AtomicInteger[] calls = new AtomicInteger[2 * threads];
        for (int i = 0; i < calls.length; i++) calls[i] = new AtomicInteger();
        Set<String> names = ConcurrentHashMap.newKeySet();
        PairedRatios.Ratio r = PairedRatios.measure("same", "A", t -> () -> {
            names.add(t + " " + Thread.currentThread().getName());
            return calls[t].incrementAndGet();
        }, "B", t -> () -> calls[threads + t].incrementAndGet(), threads, new PairedRatios.Plan(1_000_000, 3, 1_000_000));
        assertEquals(3, r.rounds());
        for (AtomicInteger c : calls) assertTrue(c.get() >= 4 * 16, "every op ran in the warm-up and in every round: " + Arrays.toString(calls));
        assertEquals(threads, names.stream().map(n -> n.substring(n.indexOf(' ') + 1)).distinct().count(), "two threads: " + names);
        assertFalse(names.stream().anyMatch(n -> n.endsWith(" " + Thread.currentThread().getName())), "not the caller's: " + names);
        assertTrue(r.q1() > 0 && r.q1() <= r.median() && r.median() <= r.q3(), r.toString());
    }

    @Test
    void bioPairsAreNamedByTheirThreads() {
        assertEquals("bio randRead4k LINEAR", PairedRatios.bioKey("randRead4k", "LINEAR", 1));
        assertEquals("bio seqWrite1m STRIPE2 2 threads", PairedRatios.bioKey("seqWrite1m", "STRIPE2", 2));
    }
}
