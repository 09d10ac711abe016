package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** suspend, load and resume under concurrent I/O: nothing acknowledged is lost, nothing lands while suspended. */
class SuspendResumeTest {
    private static final int THREADS = 4;
    private static final int SECTORS_PER_THREAD = 256;
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void loadAndSwapTablesWhileThreadsWriteAndRead() throws Exception {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        long[][] model = new long[THREADS][SECTORS_PER_THREAD]; // last acknowledged version per sector
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<Integer>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            workers.add(pool.submit(() -> {
                Random rnd = new Random(thread);
                MemorySegment buf = Arena.ofAuto().allocate(512);
                MemorySegment back = Arena.ofAuto().allocate(512);
                int ops = 0;
                long version = 0;
                while (!stop.get() || ops < 200) {
                    int s = rnd.nextInt(SECTORS_PER_THREAD);
                    long sector = (long) thread * SECTORS_PER_THREAD + s;
                    if (rnd.nextBoolean()) {
                        version++;
                        fill(buf, thread, s, version);
                        Bio w = Bio.write(sector, buf);
                        md.submit(w);
                        if (!w.await().isOk()) throw new AssertionError("write failed: " + w.await());
                        model[thread][s] = version;
                    } else {
                        Bio r = Bio.read(sector, back);
                        md.submit(r);
                        if (!r.await().isOk()) throw new AssertionError("read failed: " + r.await());
                        long seen = back.get(ValueLayout.JAVA_LONG_UNALIGNED, 16);
                        if (seen != model[thread][s]) throw new AssertionError("sector " + sector + ": read version " + seen + ", acknowledged " + model[thread][s]);
                    }
                    ops++;
                }
                return ops;
            }));
        }
        String[] layouts = {"0 2048 testlinear ram0 0", "0 1000 testlinear ram0 0\n1000 1048 testlinear ram0 1000",
                "0 8 testlinear ram0 0\n8 2040 testlinear ram0 8 16"};
        for (int round = 0; round < 30; round++) {
            f.dm.load("lv", layouts[round % layouts.length]);
            f.dm.suspend("lv");
            int landed = f.ram0.writes.get();
            Thread.sleep(5);
            assertEquals(landed, f.ram0.writes.get(), "no write reaches the device while suspended");
            f.dm.resume("lv");
            Thread.sleep(2);
        }
        stop.set(true);
        int total = 0;
        for (Future<Integer> w : workers) total += w.get(60, TimeUnit.SECONDS);
        pool.shutdown();
        assertTrue(total >= THREADS * 200);
        // Every acknowledged write is on the disk, byte for byte.
        for (int t = 0; t < THREADS; t++) {
            for (int s = 0; s < SECTORS_PER_THREAD; s++) {
                MemorySegment expected = Arena.ofAuto().allocate(512);
                if (model[t][s] != 0) fill(expected, t, s, model[t][s]);
                byte[] actual = f.ram0.read(((long) t * SECTORS_PER_THREAD + s) * 512, 512);
                assertEquals(-1, MemorySegment.ofArray(actual).mismatch(expected), "thread " + t + " sector " + s);
            }
        }
    }

    @Test
    void ioSubmittedWhileSuspendedWaitsAndCompletesAfterResume() throws Exception {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.dm.suspend("lv");
        Bio w = Bio.write(0, Arena.ofAuto().allocate(512).fill((byte) 0x5a));
        md.submit(w);
        Thread.sleep(50);
        assertFalse(w.isDone(), "held while suspended");
        assertEquals(0, f.ram0.writes.get());
        f.dm.resume("lv");
        assertEquals(BlkStatus.OK, w.await());
        assertEquals(0x5a, f.ram0.read(0, 1)[0]);
    }

    @Test
    void resumeWithANewTableSwapsAtomically() {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.dm.load("lv", "0 1024 testlinear ram1 0");
        assertEquals(2048, md.capacity(), "a loaded table is not live until resume");
        f.dm.resume("lv");
        assertEquals(1024, md.capacity());
        assertEquals("0 1024 testlinear 1:1 0\n", f.dm.table("lv"));
        assertEquals(Set.of(), f.registry.holders(new DevT(1, 0)), "the old table let go of ram0");
    }

    private static void fill(MemorySegment buf, int thread, int sector, long version) {
        buf.fill((byte) (version * 7 + sector));
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, thread);
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, sector);
        buf.set(ValueLayout.JAVA_LONG_UNALIGNED, 16, version);
    }
}
