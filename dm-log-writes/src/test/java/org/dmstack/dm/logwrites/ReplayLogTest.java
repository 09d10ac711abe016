package org.dmstack.dm.logwrites;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.dmstack.testkit.RecordingDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * replay-log on a log built byte by byte from the structures in Linux's dm-log-writes.c (not by
 * dmstack's target): every option, with the xfstests tool's output and errors.
 */
class ReplayLogTest {
    private static final byte[] A = fill(1024, 'a'), B = fill(512, 'b'), C = fill(512, 'c');

    /**
     * Entries (log sector of the entry, then its data):
     * 0 @1 write sector 0, 2 sectors; 1 @4 FUA write sector 10; 2 @6 flush; 3 @7 mark "m1";
     * 4 @8 discard sector 0, 1 sector; 5 @9 flush with data, sector 4; 6 @11 mark "end".
     */
    private static final byte[] LOG = new RawLog.Builder(512, 64 * 512)
            .write(0, A, 0)
            .write(10, B, 2)
            .flush()
            .mark("m1")
            .discard(0, 1)
            .write(4, C, 1)
            .mark("end")
            .build();

    private final RecordingDevice logdev = device("ram0", 0, 64);
    private final RecordingDevice scratch = device("ram1", 1, 64);
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    private static byte[] fill(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    private static RecordingDevice device(String name, int minor, long sectors) {
        return RecordingDevice.builder(name, 1, minor).sectors(sectors).writeCache(true).build();
    }

    ReplayLogTest() {
        logdev.memory().copyFrom(MemorySegment.ofArray(LOG));
        scratch.memory().fill((byte) 'z');
    }

    private int run(UnaryOperator<ReplayLog> options) {
        ReplayLog r = options.apply(new ReplayLog(ByteDevice.of(logdev.device())));
        return r.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private ReplayLog replay(ReplayLog r) {
        return r.replay(ByteDevice.of(scratch.device()));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private byte[] scratch(long sector, int sectors) {
        return scratch.read(sector, sectors);
    }

    @Test
    void withoutAReplayDeviceItDescribesTheLog() {
        assertEquals(0, run(r -> r));
        assertEquals("Log version=1, sectorsize=512, entries=7\n", out());
        out.reset();
        assertEquals(0, run(ReplayLog::numEntries));
        assertEquals("7\n", out());
    }

    @Test
    void replaysTheWholeLog() {
        assertEquals(0, run(this::replay));
        assertArrayEquals(fill(512, 'a'), scratch(1, 1));
        assertArrayEquals(new byte[512], scratch(0, 1)); // discarded after it was written
        assertArrayEquals(C, scratch(4, 1));
        assertArrayEquals(B, scratch(10, 1));
        assertArrayEquals(fill(512, 'z'), scratch(11, 1));
        assertEquals("", err());
        assertEquals(1, scratch.count(org.dmstack.block.BioOp.FLUSH)); // the closing fsync
    }

    @Test
    void limitStopsAfterThatManyEntriesAndVerbosePrintsEachAsTheToolDoes() {
        assertEquals(0, run(r -> replay(r).limit(2).verbose(1)));
        assertEquals("""
                replaying 0@2: sector 0, size 1024, flags 0x0(NONE)
                replaying 1@5: sector 10, size 512, flags 0x2(FUA)
                """, out());
        assertArrayEquals(A, scratch(0, 2));
        assertArrayEquals(B, scratch(10, 1));
        assertArrayEquals(fill(512, 'z'), scratch(4, 1));
    }

    @Test
    void endMarkStopsAtThatMark() {
        assertEquals(0, run(r -> replay(r).endMark("m1")));
        assertArrayEquals(A, scratch(0, 2)); // the discard after m1 did not happen
        assertArrayEquals(fill(512, 'z'), scratch(4, 1));
    }

    @Test
    void nextFlushStopsAtTheFirstFlushFromTheStartEntry() {
        assertEquals(0, run(r -> replay(r).startEntry(3).nextFlush()));
        assertArrayEquals(new byte[512], scratch(0, 1)); // entry 4's discard
        assertArrayEquals(fill(512, 'z'), scratch(1, 1));
        assertArrayEquals(C, scratch(4, 1)); // entry 5, the flush, is the last replayed
        assertArrayEquals(fill(512, 'z'), scratch(10, 1));
    }

    @Test
    void findPrintsEntryAndLogSector() {
        assertEquals(0, run(r -> r.find().endMark("m1")));
        assertEquals("3@8\n", out());
        out.reset();
        assertEquals(0, run(r -> r.find().endMark("end")));
        assertEquals("6@12\n", out());
        out.reset();
        assertEquals(0, run(r -> r.find().nextFua()));
        assertEquals("1@6\n", out());
        out.reset();
        assertEquals(0, run(r -> r.find().limit(5)));
        assertEquals("4@9\n", out());
        assertEquals(1, run(r -> r.find().endMark("m2")));
        assertEquals("Couldn't find entry\n", err());
    }

    @Test
    void startMarkBeginsAfterTheMark() {
        assertEquals(0, run(r -> replay(r).startMark("m1").verbose(2)));
        assertEquals("""
                replaying 4@9: sector 0, size 512, flags 0x4(DISCARD)
                replaying 5@10: sector 4, size 512, flags 0x1(FLUSH)
                replaying 6@12: sector 0, size 0, flags 0x8(MARK)
                """, out().lines().filter(l -> l.startsWith("replaying")).map(l -> l + "\n").reduce("", String::concat));
        assertArrayEquals(fill(512, 'z'), scratch(10, 1));
        assertEquals(1, run(r -> replay(r).startMark("m9")));
        assertEquals("Couldn't find starting mark\n", err());
    }

    @Test
    void checkRunsTheFsckAtEveryFlushFuaOrNthEntry() {
        AtomicInteger calls = new AtomicInteger();
        assertEquals(0, run(r -> replay(r).check(ReplayLog.CheckMode.FLUSH, 0, () -> calls.incrementAndGet() > 0)));
        assertEquals(2, calls.getAndSet(0));
        assertEquals(0, run(r -> replay(r).check(ReplayLog.CheckMode.FUA, 0, () -> calls.incrementAndGet() > 0)));
        assertEquals(1, calls.getAndSet(0));
        assertEquals(0, run(r -> replay(r).check(ReplayLog.CheckMode.NUMBER, 3, () -> calls.incrementAndGet() > 0)));
        assertEquals(2, calls.getAndSet(0));
    }

    @Test
    void aFailingCheckStopsTheReplayAtThatEntry() {
        AtomicInteger calls = new AtomicInteger();
        // The second flush is entry 5: the check sees the sector it wrote, then fails.
        assertEquals(1, run(r -> replay(r).check(ReplayLog.CheckMode.FLUSH, 0, () -> calls.incrementAndGet() < 2)));
        assertEquals("Fsck errored out on entry 5\n", err());
        assertArrayEquals(C, scratch(4, 1));
    }

    @Test
    void sectorRangeSkipsEntriesOutsideIt() {
        assertEquals(0, run(r -> replay(r).sectors(4, 9).verbose(2).noDiscard()));
        assertArrayEquals(fill(1024, 'z'), scratch(0, 2));
        assertArrayEquals(C, scratch(4, 1));
        assertArrayEquals(fill(512, 'z'), scratch(10, 1));
        assertEquals("skipping 0@2: sector 0, size 1024, flags 0x0(NONE)", out().lines().findFirst().orElseThrow());
    }

    @Test
    void refusesLogsThatAreNotLogs() {
        byte[] bad = LOG.clone();
        bad[0] ^= 1;
        logdev.memory().copyFrom(MemorySegment.ofArray(bad));
        assertEquals(1, run(this::replay));
        assertEquals("Magic doesn't match\n", err());

        err.reset();
        bad = LOG.clone();
        bad[8] = 2;
        logdev.memory().copyFrom(MemorySegment.ofArray(bad));
        assertEquals(1, run(this::replay));
        assertEquals("Version mismatch, wanted 1, have 2\n", err());

        err.reset();
        bad = LOG.clone();
        bad[512 + 32] = 1; // garbage after the first entry's header
        logdev.memory().copyFrom(MemorySegment.ofArray(bad));
        assertEquals(1, run(this::replay));
        assertEquals("Malformed entry @1\n", err());
        assertArrayEquals(fill(1024, 'z'), scratch(0, 2));

        err.reset();
        logdev.memory().copyFrom(MemorySegment.ofArray(LOG));
        assertEquals(1, run(r -> replay(r).startEntry(7)));
        assertEquals("Invalid entry number\n", err());
    }

    @Test
    void replaysFromAndOntoFilesWritingZerosForDiscards(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("log"), target = dir.resolve("scratch");
        Files.write(log, LOG);
        Files.write(target, fill(64 * 512, 'z'));
        try (FileChannel l = FileChannel.open(log, StandardOpenOption.READ);
                FileChannel t = FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int status = new ReplayLog(ByteDevice.of(l)).replay(ByteDevice.of(t)).verbose(1)
                    .run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(0, status);
        }
        byte[] result = Files.readAllBytes(target);
        byte[] expected = fill(64 * 512, 'z');
        Arrays.fill(expected, 0, 512, (byte) 0);
        Arrays.fill(expected, 512, 1024, (byte) 'a');
        Arrays.fill(expected, 4 * 512, 5 * 512, (byte) 'c');
        Arrays.fill(expected, 10 * 512, 11 * 512, (byte) 'b');
        assertArrayEquals(expected, result);
        assertEquals("replay device doesn't support discard, switching to writing zeros", out().lines().filter(l -> !l.startsWith("replaying")).findFirst().orElseThrow());
    }
}
