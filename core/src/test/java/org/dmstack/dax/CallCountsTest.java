package org.dmstack.dax;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Per-thread call counts add up exactly, also after the threads that counted have ended. */
class CallCountsTest {
    @Test
    void countsOfEveryThreadAddUpAndOutliveTheirThreads() throws Exception {
        CallCounts counts = new CallCounts();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 10_000; i++) counts.add(CallCounts.COPY);
                counts.add(CallCounts.FLUSH);
            });
            threads[t].start();
        }
        for (Thread t : threads) t.join();
        counts.add(CallCounts.DIRECT_ACCESS); // a new thread's cell folds the ended ones into the base
        assertEquals(40_000, counts.sum(CallCounts.COPY));
        assertEquals(4, counts.sum(CallCounts.FLUSH));
        assertEquals(1, counts.sum(CallCounts.DIRECT_ACCESS));
    }
}
