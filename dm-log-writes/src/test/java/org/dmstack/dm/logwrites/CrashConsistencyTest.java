package org.dmstack.dm.logwrites;

import static org.dmstack.testkit.Bios.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.memory.PagePool;
import org.dmstack.testkit.RecordingDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The crash-consistency test log-writes and replay-log exist for: a small write-ahead-log writer
 * runs over log-writes over a disk with a write cache and FUA (a disk without FUA would have each
 * FUA write turned into a write and a flush by the block layer, as blk-flush does, and the dropped
 * flush below would be masked); the log is replayed onto a scratch RAM disk one flush (and one
 * FUA) at a time, and after each step a check reads the scratch disk as recovery would and
 * verifies the writer's invariant: every record the header says is committed is there, intact.
 */
class CrashConsistencyTest {
    private static final int RECORDS = 12;
    private static final long MAGIC = 0x57414c4845414452L;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final Brd brd = new Brd(registry, new BrdConfig(3, 1024), new PagePool());
    private final DeviceMapper dm = new DeviceMapper(registry);
    private final BlockDevice ram1 = registry.lookup("ram1"), ram2 = registry.lookup("ram2");

    CrashConsistencyTest() {
        dm.targetTypes().register(new LogWritesTargetType());
        // The writer's disk: a write cache and FUA, so flushes and FUA writes reach log-writes as they were sent.
        registry.add(RecordingDevice.builder("sda", 8, 0).sectors(2048).writeCache(true).fua(true).build().device());
    }

    @AfterEach
    void close() {
        dm.close();
        brd.close();
    }

    /**
     * The writer: record i in sector 1 + i (its number and a checksum-like fill), then the header
     * in sector 0 saying how many records are committed, written FUA. {@code flushBeforeCommit}
     * false drops the flush that makes the record durable before the header points at it.
     */
    private static void append(BlockDevice dev, int i, boolean flushBeforeCommit) {
        MemorySegment record = MemorySegment.ofArray(new byte[512]);
        record.fill((byte) (i * 7 + 1));
        record.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, i);
        ok(submit(dev, Bio.write(1 + i, record)));
        if (flushBeforeCommit) ok(submit(dev, Bio.flush()));
        MemorySegment header = MemorySegment.ofArray(new byte[512]);
        header.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, MAGIC);
        header.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, i + 1);
        ok(submit(dev, Bio.write(0, header, BioFlag.FUA)));
    }

    private static void ok(BlkStatus status) {
        assertEquals(BlkStatus.OK, status);
    }

    /** Recovery's view: a header (or none yet) and every record it counts, intact. */
    private static boolean invariantHolds(BlockDevice dev, List<Long> committedSeen) {
        MemorySegment buf = MemorySegment.ofArray(new byte[512 * (RECORDS + 1)]);
        ok(submit(dev, Bio.read(0, buf)));
        if (buf.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != MAGIC) {
            committedSeen.add(0L);
            return true;
        }
        long committed = buf.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
        committedSeen.add(committed);
        for (int i = 0; i < committed; i++) {
            MemorySegment record = buf.asSlice(512L * (1 + i), 512);
            if (record.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) != i) return false;
            for (long b = 8; b < 512; b++) if (record.get(ValueLayout.JAVA_BYTE, b) != (byte) (i * 7 + 1)) return false;
        }
        return true;
    }

    /** What replay-log said, and the committed counts the check saw at each step. */
    private record Replay(int status, String err, List<Long> committedSeen) {}

    /** Runs the writer over log-writes, removes the device (which closes the log), and replays it with the check. */
    private Replay writeAndReplay(boolean flushBeforeCommit, ReplayLog.CheckMode mode) {
        BlockDevice dev = dm.create("wal", "0 2048 log-writes sda ram1").disk();
        for (int i = 0; i < RECORDS; i++) append(dev, i, flushBeforeCommit);
        dm.remove("wal");

        List<Long> seen = new ArrayList<>();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = new ReplayLog(ByteDevice.of(ram1)).replay(ByteDevice.of(ram2))
                .check(mode, 0, () -> invariantHolds(ram2, seen))
                .run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Replay(status, err.toString(StandardCharsets.UTF_8), seen);
    }

    @Test
    void theWriterRecoversAtEveryFlush() {
        // One check per flush: the record is durable, the header still counts only the ones before it.
        assertEquals(new Replay(0, "", List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L)), writeAndReplay(true, ReplayLog.CheckMode.FLUSH));
    }

    @Test
    void theWriterRecoversAtEveryCommit() {
        assertEquals(new Replay(0, "", List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L)), writeAndReplay(true, ReplayLog.CheckMode.FUA));
    }

    @Test
    void droppingTheFlushBeforeTheCommitFailsTheCheckAtTheFirstCommit() {
        // The commit was FUA, so it reached the log (the media) before the record it counts, which waited for a flush.
        assertEquals(new Replay(1, "Fsck errored out on entry 0\n", List.of(1L)), writeAndReplay(false, ReplayLog.CheckMode.FUA));
    }
}
