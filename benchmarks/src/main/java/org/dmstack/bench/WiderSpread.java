package org.dmstack.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Whether one server's rounds spread wider than another's by more than chance gives a handful of
 * rounds: a one-sided permutation test of dispersion. Each round's distance from its server's
 * median is taken in logarithms, so that the same swing of the whole machine weighs the same at
 * any rate (Brown and Forsythe's statistic: the median, not the mean, so one wild round does not
 * move the centre); the statistic is how much further, on average, the first server's rounds lie
 * from their median than the second's. Were both spreads alike, every way of dealing the pooled
 * distances into two groups of those sizes would be as likely: the chance is the share of the
 * deals whose statistic is at least the one seen. Up to a million deals are all counted (nine
 * rounds a side: 48,620), beyond that 200,000 drawn at random with a fixed seed.
 *
 * <p>Nine rounds a side decide little: with equal spreads the first is the wider about half the
 * time, so "wider" alone is a coin toss; a chance of 5% or less says it is wider in fact.
 */
final class WiderSpread {
    private static final long EXACT_LIMIT = 1_000_000;
    private static final int DRAWS = 200_000;

    private WiderSpread() {}

    /**
     * The chance, were both spreads the same, of {@code a}'s rounds lying at least as much further
     * from their median than {@code b}'s as they do (rates, all positive); NaN with fewer than two
     * rounds on either side.
     */
    static double chance(double[] a, double[] b) {
        if (a.length < 2 || b.length < 2) return Double.NaN;
        double[] da = distances(a), db = distances(b);
        double[] pooled = new double[da.length + db.length];
        System.arraycopy(da, 0, pooled, 0, da.length);
        System.arraycopy(db, 0, pooled, da.length, db.length);
        double total = Arrays.stream(pooled).sum();
        double seen = statistic(Arrays.stream(da).sum(), total, da.length, db.length);
        // A deal counts when its statistic reaches the one seen, allowing for rounding in the sums.
        double reach = seen - 1e-12 * Math.max(1, Math.abs(total));
        long deals = binomial(pooled.length, da.length);
        if (deals <= EXACT_LIMIT) return (double) reaching(pooled, 0, da.length, 0, total, db.length, reach) / deals;
        SplittableRandom random = new SplittableRandom(1);
        double[] p = pooled.clone();
        int atLeast = 0;
        for (int i = 0; i < DRAWS; i++) {
            double sum = 0;
            for (int k = 0; k < da.length; k++) { // a partial Fisher-Yates shuffle: the first group
                int j = k + random.nextInt(p.length - k);
                double t = p[k];
                p[k] = p[j];
                p[j] = t;
                sum += p[k];
            }
            if (statistic(sum, total, da.length, db.length) >= reach) atLeast++;
        }
        return (double) atLeast / DRAWS;
    }

    /** Each rate's distance from the median of them all, in logarithms. */
    private static double[] distances(double[] rates) {
        double[] logs = Arrays.stream(rates).map(Math::log).sorted().toArray();
        double median = PairedRatios.quantile(logs, 0.5);
        return Arrays.stream(logs).map(l -> Math.abs(l - median)).toArray();
    }

    /** The first group's mean distance over the second's, from the first group's sum. */
    private static double statistic(double firstSum, double total, int first, int second) {
        return firstSum / first - (total - firstSum) / second;
    }

    /** How many deals of {@code left} more of pooled[from..] into the first group reach {@code reach}. */
    private static long reaching(double[] pooled, int from, int left, double sum, double total, int second, double reach) {
        if (left == 0) return statistic(sum, total, pooled.length - second, second) >= reach ? 1 : 0;
        long n = 0;
        for (int i = from; i <= pooled.length - left; i++) n += reaching(pooled, i + 1, left - 1, sum + pooled[i], total, second, reach);
        return n;
    }

    private static long binomial(int n, int k) {
        long c = 1;
        for (int i = 1; i <= k; i++) {
            c = c * (n - k + i) / i;
            if (c > EXACT_LIMIT) return c;
        }
        return c;
    }
}
