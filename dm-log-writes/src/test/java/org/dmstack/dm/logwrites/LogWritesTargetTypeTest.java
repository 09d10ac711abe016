package org.dmstack.dm.logwrites;

import static org.dmstack.testkit.Bios.pattern;
import static org.dmstack.testkit.Bios.submit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.DevT;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DmException;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.MappedDevice;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetVersion;
import org.dmstack.dm.logwrites.LogWritesTargetType.LogWrites;
import org.dmstack.dm.logwrites.RawLog.RawEntry;
import org.dmstack.iov.IovIter;
import org.dmstack.testkit.RecordingDevice;
import org.dmstack.testkit.TargetHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** log-writes as dm-log-writes.c behaves: its errors, its table and status, and the log it writes, decoded byte by byte. */
class LogWritesTargetTypeTest {
    private final RecordingDevice ram0 = RecordingDevice.builder("ram0", 1, 0).sectors(4096).writeCache(true).fua(true).build();
    private final RecordingDevice ram1 = RecordingDevice.builder("ram1", 1, 1).sectors(8192).writeCache(true).fua(true).build();
    private final TargetHarness h = TargetHarness.of(new LogWritesTargetType()).with(ram0, ram1);

    @AfterEach
    void close() {
        h.close();
    }

    private LogWrites target() throws Exception {
        return (LogWrites) h.construct("0 4096 log-writes ram0 ram1");
    }

    private static void ok(Target t, Bio bio) {
        MapResult r = t.map(bio);
        if (r == MapResult.REMAPPED) bio.device().submit(bio);
        assertEquals(BlkStatus.OK, bio.await());
    }

    private RawLog.Decoded log() {
        return RawLog.decode(ram1.read(0, 8192));
    }

    @Test
    void refusesWhatLinuxRefuses() {
        assertEquals("Invalid argument count", h.constructError("0 8 log-writes"));
        assertEquals("Invalid argument count", h.constructError("0 8 log-writes ram0"));
        assertEquals("Device lookup failed: ram9: No such device", h.constructError("0 8 log-writes ram9 ram1"));
        assertEquals("Log device lookup failed: ram9: No such device", h.constructError("0 8 log-writes ram0 ram9"));
        assertEquals("line 1: log-writes: Log device lookup failed: ram9: No such device", h.createError("0 8 log-writes ram0 ram9"));
    }

    @Test
    void argumentsAfterTheTwoDevicesAreIgnoredAsInLinux() throws Exception {
        assertEquals("1:0 1:1", h.construct("0 8 log-writes ram0 ram1 extra").status(org.dmstack.dm.StatusType.TABLE));
    }

    @Test
    void tableAndStatusAsDmsetupPrintsThem() {
        MappedDevice md = h.create("0 4096 log-writes /dev/ram0 1:1");
        assertEquals("0 4096 log-writes 1:0 1:1\n", h.dm().table("test0"));
        // No entries; the highest allocated sector is the super block's.
        assertEquals("0 4096 log-writes 0 0\n", h.dm().status("test0"));
        // Both devices are held (dm_get_device), although only dev is a data device.
        assertEquals(List.of(new DevT(1, 1), new DevT(1, 0)), h.dm().deps("test0"));
        assertTrue(h.dm().targets().contains(new TargetVersion("log-writes", 1, 1, 0)), h.dm().targets().toString());
        assertEquals(4096, md.disk().capacity());
    }

    @Test
    void writesAreLoggedWhenAFlushCompletesAfterThem() throws Exception {
        LogWrites t = target();
        MemorySegment a = pattern(8, 1), b = pattern(2, 2);
        ok(t, Bio.write(16, a));
        ok(t, Bio.write(100, b));
        t.awaitLogged();
        assertEquals("0 0", t.status(org.dmstack.dm.StatusType.INFO));
        assertEquals(List.of("WRITE 16+8", "WRITE 100+2"), ram0.log());
        assertEquals(List.of(), ram1.log());

        ok(t, Bio.flush());
        t.awaitLogged();

        // Entry 1 at log sector 1, its 8 sectors at 2..9; entry 2 at 10, data 11..12; the flush at 13.
        assertEquals("3 13", t.status(org.dmstack.dm.StatusType.INFO));
        List<String> logged = ram1.log();
        assertEquals(List.of("WRITE 1+1", "WRITE 2+8", "WRITE 10+1", "WRITE 11+2", "WRITE 13+1"), logged);
        // A flush does not rewrite the super block: nr_entries stays 0 until a FUA or a mark.
        assertEquals(0, log().nrEntries());
        t.destroy();

        RawLog.Decoded log = log();
        assertEquals(0x6a736677736872L, log.magic());
        assertEquals(1, log.version());
        assertEquals(512, log.sectorsize());
        assertEquals(4, log.nrEntries());
        List<RawEntry> e = log.entries();
        assertEquals("sector 16 nr 8 flags 0 data 4096", e.get(0).toString());
        assertArrayEquals(a.toArray(ValueLayout.JAVA_BYTE), e.get(0).data());
        assertEquals("sector 100 nr 2 flags 0 data 1024", e.get(1).toString());
        assertArrayEquals(b.toArray(ValueLayout.JAVA_BYTE), e.get(1).data());
        assertEquals("sector 0 nr 0 flags 1 data 0", e.get(2).toString());
        assertEquals("sector 0 nr 0 flags 8 mark dm-log-writes-end data 0", e.get(3).toString());
        assertEquals(17, e.get(3).dataLen());
    }

    @Test
    void writesAreLoggedInTheOrderTheyCompleteNotTheOrderTheyWereSent() throws Exception {
        List<Runnable> device = new ArrayList<>();
        ram0.async(device::add);
        LogWrites t = target();
        Bio first = Bio.write(0, pattern(1, 1)), second = Bio.write(8, pattern(1, 2));
        t.map(first);
        t.map(second);
        device.get(1).run();
        device.get(0).run();
        ram0.async(null);
        ok(t, Bio.flush());
        t.destroy();
        List<RawEntry> e = log().entries();
        assertEquals(8, e.get(0).sector());
        assertEquals(0, e.get(1).sector());
        assertEquals(1, e.get(2).flags());
    }

    @Test
    void aFuaWriteIsLoggedAtOnceAndRewritesTheSuperBlock() throws Exception {
        LogWrites t = target();
        ok(t, Bio.write(40, pattern(1, 3)));
        ok(t, Bio.write(8, pattern(2, 4), BioFlag.FUA));
        t.awaitLogged();
        RawLog.Decoded log = log();
        assertEquals(1, log.nrEntries());
        assertEquals("sector 8 nr 2 flags 2 data 1024", log.entries().get(0).toString());
        assertEquals("1 3", t.status(org.dmstack.dm.StatusType.INFO));
    }

    @Test
    void discardsAreLoggedWithoutDataAndReadsNotAtAll() throws Exception {
        LogWrites t = target();
        ok(t, Bio.read(0, MemorySegment.ofArray(new byte[4096])));
        ok(t, Bio.discard(64, 32 * 512));
        ok(t, Bio.flush());
        t.awaitLogged();
        assertEquals("2 2", t.status(org.dmstack.dm.StatusType.INFO));
        assertEquals(List.of("READ 0+8", "DISCARD 64+32"), ram0.log());
        t.destroy();
        List<RawEntry> e = log().entries();
        assertEquals("sector 64 nr 32 flags 4 data 0", e.get(0).toString());
    }

    @Test
    void overDevicesWithoutAWriteCacheOrDiscardFlushesAndDiscardsStillReachTheLog() {
        // log_writes_ctr (6.1) sets ti->flush_supported and ti->discards_supported, and
        // log_writes_io_hints advertises discards of UINT_MAX >> SECTOR_SHIFT sectors when dev has none.
        RecordingDevice ram2 = RecordingDevice.builder("ram2", 1, 2).sectors(4096).discard(false).build();
        RecordingDevice ram3 = RecordingDevice.builder("ram3", 1, 3).sectors(8192).discard(false).build();
        h.with(ram2, ram3);
        MappedDevice md = h.create("0 4096 log-writes ram2 ram3");
        assertEquals("write back", md.disk().attributes().read("queue/write_cache"));
        assertEquals("1", md.disk().attributes().read("queue/fua"));
        assertEquals("512", md.disk().attributes().read("queue/discard_granularity"));
        assertEquals("4294966784", md.disk().attributes().read("queue/discard_max_bytes"));

        assertEquals(BlkStatus.OK, submit(md.disk(), Bio.write(16, pattern(1, 7))));
        assertEquals(BlkStatus.OK, submit(md.disk(), Bio.discard(64, 8 * 512)));
        assertEquals(BlkStatus.OK, submit(md.disk(), Bio.flush()));
        assertEquals(BlkStatus.OK, submit(md.disk(), Bio.write(24, pattern(1, 8), BioFlag.FUA)));
        h.dm().remove("test0");

        // The discard was logged but never sent to a device that cannot do it (log_writes_map: bio_endio).
        assertEquals(List.of("WRITE 16+1", "WRITE 24+1"), ram2.log());
        List<RawEntry> e = RawLog.decode(ram3.read(0, 8192)).entries();
        assertEquals(List.of("sector 16 nr 1 flags 0 data 512", "sector 64 nr 8 flags 4 data 0", "sector 0 nr 0 flags 1 data 0",
                "sector 24 nr 1 flags 2 data 512", "sector 0 nr 0 flags 8 mark dm-log-writes-end data 0"),
                e.stream().map(RawEntry::toString).toList());
    }

    @Test
    void marksAreEntriesWithTheirNameAndRewriteTheSuperBlock() {
        h.create("0 4096 log-writes ram0 ram1");
        submit(h.dm().get("test0").disk(), Bio.write(0, pattern(1, 5)));
        assertEquals("", h.dm().message("test0", 0, List.of("mark", "one")));
        assertEquals("", h.dm().message("test0", 0, List.of("MARK", "x".repeat(600))));
        h.dm().remove("test0");

        List<RawEntry> e = log().entries();
        assertEquals(4, e.size());
        assertEquals("sector 0 nr 0 flags 8 mark one data 0", e.get(0).toString());
        // kstrndup(name, sectorsize - sizeof(entry) - 1): 479 bytes of a 600-byte name.
        assertEquals("x".repeat(479), e.get(1).mark());
        // The unflushed write is logged when the target goes, before the closing mark.
        assertEquals("sector 0 nr 1 flags 0 data 512", e.get(2).toString());
        assertEquals("dm-log-writes-end", e.get(3).mark());
    }

    @Test
    void badMessagesAreRefusedInTheKernelsWords() {
        h.create("0 4096 log-writes ram0 ram1");
        assertEquals("message ioctl on test0 failed: Invalid argument (Invalid log-writes message arguments, expect 2 arguments, got 1)",
                assertThrows(DmException.class, () -> h.dm().message("test0", 0, List.of("mark"))).getMessage());
        assertEquals("message ioctl on test0 failed: Invalid argument (Invalid log-writes message arguments, expect 2 arguments, got 3)",
                assertThrows(DmException.class, () -> h.dm().message("test0", 0, List.of("mark", "a", "b"))).getMessage());
        assertEquals("message ioctl on test0 failed: Invalid argument (Unrecognised log writes target message received: flush)",
                assertThrows(DmException.class, () -> h.dm().message("test0", 0, List.of("flush", "now"))).getMessage());
        assertEquals("0 4096 log-writes 0 0\n", h.dm().status("test0"));
    }

    @Test
    void aFullLogDeviceStopsLoggingButNotTheWrites() throws Exception {
        RecordingDevice small = RecordingDevice.builder("ram2", 1, 2).sectors(16).writeCache(true).build();
        h.with(small);
        LogWrites t = (LogWrites) h.construct("0 4096 log-writes ram0 ram2");
        ok(t, Bio.write(0, pattern(4, 6)));
        ok(t, Bio.write(8, pattern(16, 7)));
        ok(t, Bio.flush());
        t.awaitLogged();
        // Entry 1 takes sectors 1..5; entry 2 would end at 23, past the 16 sectors: logging stops.
        assertEquals("1 22 logging_disabled", t.status(org.dmstack.dm.StatusType.INFO));
        ok(t, Bio.write(32, pattern(1, 8)));
        assertEquals(-1, ram0.sectors(32, 1).mismatch(pattern(1, 8)));
        assertEquals(List.of("WRITE 1+1", "WRITE 2+4"), small.log());
    }

    @Test
    void aFailingLogDeviceStopsLogging() throws Exception {
        LogWrites t = target();
        ram1.failIo(true);
        ok(t, Bio.write(0, pattern(1, 9), BioFlag.FUA));
        t.awaitLogged();
        assertEquals("1 2 logging_disabled", t.status(org.dmstack.dm.StatusType.INFO));
    }

    @Test
    void sectorsCountLogicalBlocksOfTheDevice() throws Exception {
        RecordingDevice big = RecordingDevice.builder("ram3", 1, 3).sectors(4096).writeCache(true).fua(true).logicalBlockSize(4096).build();
        h.with(big);
        LogWrites t = (LogWrites) h.construct("0 4096 log-writes ram3 ram1");
        ok(t, Bio.write(16, pattern(16, 10), BioFlag.FUA));
        t.awaitLogged();
        // Log sectors are 4096 bytes: the super in 0..7, the entry in 8..15, its two blocks in 16..31.
        assertEquals("1 31", t.status(org.dmstack.dm.StatusType.INFO));
        RawLog.Decoded log = log();
        assertEquals(4096, log.sectorsize());
        assertEquals("sector 2 nr 2 flags 2 data 8192", log.entries().get(0).toString());
    }

    @Test
    void daxGoesStraightToTheDeviceAndIsNotLogged() {
        MappedDevice md = h.create("0 4096 log-writes ram0 ram1");
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 0x5a);
        assertEquals(4096, FsDax.write(md.disk().dax(), 3 * 4096, IovIter.iovec(data)));
        assertArrayEquals(data, ram0.read(24, 8));
        assertEquals(List.of(), ram1.log());
        assertTrue(ram0.daxAccesses().stream().anyMatch(a -> a.pgoff() == 3));
    }
}
