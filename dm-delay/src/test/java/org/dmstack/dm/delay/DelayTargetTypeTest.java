package org.dmstack.dm.delay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.StatusType;
import org.dmstack.testkit.Bios;
import org.dmstack.testkit.RecordingDevice;
import org.dmstack.testkit.TargetHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** delay as Linux 6.1 has it: grammar and errors, table and status, and held I/O at a clock the test moves. */
class DelayTargetTypeTest {
    private final ManualTimer timer = new ManualTimer();
    private final RecordingDevice ram0 = RecordingDevice.builder("ram0", 1, 0).sectors(4096).writeCache(true).build();
    private final RecordingDevice ram1 = RecordingDevice.builder("ram1", 1, 1).sectors(4096).writeCache(true).build();
    private final RecordingDevice ram2 = RecordingDevice.builder("ram2", 1, 2).sectors(4096).writeCache(true).build();
    private final TargetHarness h = TargetHarness.of(new DelayTargetType(timer)).with(ram0, ram1, ram2);

    @AfterEach
    void close() {
        h.close();
    }

    private String refused(String args) {
        return h.constructError("0 1024 delay " + args);
    }

    @Test
    void refusesWhatLinuxRefusesInItsOrder() {
        assertEquals("Requires exactly 3, 6 or 9 arguments", refused("ram0 0"));
        assertEquals("Requires exactly 3, 6 or 9 arguments", refused("ram0 0 1 ram1 0"));
        assertEquals("Requires exactly 3, 6 or 9 arguments", refused("ram0 0 1 ram1 0 1 ram2 0 1 x"));
        assertEquals("Invalid device sector", refused("ram0 -1 1"));
        assertEquals("Invalid device sector", refused("ram0 8s 1"));
        assertEquals("Invalid delay", refused("ram0 0 1ms"));
        assertEquals("Invalid delay", refused("ram0 0 -5"));
        assertEquals("Device lookup failed: ram9: No such device", refused("ram9 0 1"));
        assertEquals("Device lookup failed: ram9: No such device", refused("ram9 0 1 ram0 x 1"), "each set's device is looked up before the next set is read");
        assertEquals("Invalid device sector", refused("ram0 0 1 ram1 x 1"), "the write set has the same words");
        assertEquals("Invalid delay", refused("ram0 0 1 ram1 0 x"));
        assertEquals("Device lookup failed: ram9: No such device", refused("ram0 0 1 ram9 0 1"));
        assertEquals("Invalid delay", refused("ram0 0 1 ram1 0 1 ram2 0 y"));
        assertEquals("Device lookup failed: ram9: No such device", refused("ram0 0 1 ram1 0 1 ram9 0 1"));
    }

    @Test
    void tableAndStatusForEachForm() throws Exception {
        assertEquals("1:0 8 100", h.construct("0 1024 delay ram0 8 100").status(StatusType.TABLE));
        assertEquals("1:0 8 100 1:1 16 0", h.construct("0 1024 delay ram0 8 100 ram1 16 0").status(StatusType.TABLE));
        assertEquals("1:0 8 100 1:1 16 0 1:2 0 5", h.construct("0 1024 delay ram0 8 100 1:1 16 0 ram2 0 5").status(StatusType.TABLE));
        assertEquals("0 0 0", h.construct("0 1024 delay ram0 8 100").status(StatusType.INFO));
        h.create("0 1024 delay ram0 0 0");
        assertEquals("0 1024 delay 1:0 0 0\n", h.dm().table("test0"));
        assertEquals("0 1024 delay 0 0 0\n", h.dm().status("test0"));
    }


    @Test
    void holdsBiosWithoutBlockingTheSubmitterAndSendsThemOnOldestFirst() {
        BlockDevice md = h.create("0 1024 delay ram0 100 50").disk();
        Bio first = Bio.write(1, Bios.filled(1, 1));
        Bio second = Bio.write(2, Bios.filled(1, 2));
        Bio read = Bio.read(1, MemorySegment.ofArray(new byte[512]));
        md.submit(first);
        timer.advance(10);
        md.submit(second);
        md.submit(read);
        assertFalse(first.isDone() || second.isDone() || read.isDone(), "submit returned; every bio is held");
        assertEquals("0 1024 delay 1 2 0\n", h.dm().status("test0"));
        assertEquals(List.of(), ram0.bios());
        timer.advance(39);
        assertFalse(first.isDone(), "49 ms: not yet");
        timer.advance(1);
        assertEquals(BlkStatus.OK, first.await());
        assertFalse(second.isDone());
        assertEquals(List.of("WRITE 101+1"), ram0.log());
        timer.advance(10);
        assertEquals(BlkStatus.OK, second.await());
        assertEquals(BlkStatus.OK, read.await());
        assertEquals(List.of("WRITE 101+1", "WRITE 102+1", "READ 101+1"), ram0.log(), "in the order they came");
        assertArrayEquals(Bios.filled(1, 1).toArray(ValueLayout.JAVA_BYTE), read.data().toArray(ValueLayout.JAVA_BYTE));
        assertEquals("0 1024 delay 0 0 0\n", h.dm().status("test0"));
        assertEquals(0, timer.pending(), "nothing held, no timer armed");
    }

    @Test
    void readsWritesAndFlushesHaveTheirOwnDeviceAndDelay() {
        BlockDevice md = h.create("0 1024 delay ram0 0 100 ram1 8 0 ram2 16 30").disk();
        Bio write = Bio.write(5, Bios.filled(1, 7));
        md.submit(write);
        assertEquals(BlkStatus.OK, write.await(), "writes have no delay");
        assertArrayEquals(Bios.filled(1, 7).toArray(ValueLayout.JAVA_BYTE), ram1.read(13, 1));
        Bio read = Bio.read(5, MemorySegment.ofArray(new byte[512]));
        Bio flush = Bio.flush();
        md.submit(read);
        md.submit(flush);
        assertEquals("0 1024 delay 1 0 1\n", h.dm().status("test0"));
        timer.advance(30);
        assertEquals(BlkStatus.OK, flush.await());
        assertEquals(1, ram2.count(org.dmstack.block.BioOp.FLUSH));
        assertFalse(read.isDone());
        timer.advance(70);
        assertEquals(BlkStatus.OK, read.await());
        assertEquals(List.of("READ 5+1"), ram0.log());
    }

    @Test
    void sixArgumentsSendFlushesWithTheWrites() {
        BlockDevice md = h.create("0 1024 delay ram0 0 0 ram1 0 20").disk();
        Bio flush = Bio.flush();
        md.submit(flush);
        assertFalse(flush.isDone());
        assertEquals("0 1024 delay 0 0 1\n", h.dm().status("test0"), "counted as a flush, delayed as a write");
        timer.advance(20);
        assertEquals(BlkStatus.OK, flush.await());
        assertEquals(1, ram1.count(org.dmstack.block.BioOp.FLUSH));
    }

    @Test
    void suspendSendsEveryHeldBioOnAndResumeHoldsAgain() {
        BlockDevice md = h.create("0 1024 delay ram0 0 1000").disk();
        Bio a = Bio.write(1, Bios.filled(1, 1));
        Bio b = Bio.write(2, Bios.filled(1, 2));
        md.submit(a);
        md.submit(b);
        h.dm().suspend("test0");
        assertTrue(a.isDone() && b.isDone(), "presuspend sent them on; suspend waited for them");
        assertEquals(List.of("WRITE 1+1", "WRITE 2+1"), ram0.log());
        assertEquals(0, timer.pending(), "the timer was stopped");
        Bio held = Bio.write(3, Bios.filled(1, 3));
        md.submit(held);
        assertFalse(held.isDone(), "dm holds new I/O while suspended");
        h.dm().resume("test0");
        assertFalse(held.isDone(), "after resume the delay applies again");
        timer.advance(1000);
        assertEquals(BlkStatus.OK, held.await());
        assertEquals(List.of("WRITE 1+1", "WRITE 2+1", "WRITE 3+1"), ram0.log());
    }

    @Test
    void aReloadSendsTheOldTablesHeldBiosOnFirst() {
        BlockDevice md = h.create("0 1024 delay ram0 0 1000").disk();
        Bio a = Bio.write(1, Bios.filled(1, 1));
        md.submit(a);
        h.dm().load("test0", "0 1024 delay ram1 0 0");
        h.dm().suspend("test0");
        h.dm().resume("test0");
        assertTrue(a.isDone());
        Bio b = Bio.write(1, Bios.filled(1, 2));
        md.submit(b);
        assertEquals(BlkStatus.OK, b.await());
        assertEquals(List.of("WRITE 1+1"), ram0.log());
        assertEquals(List.of("WRITE 1+1"), ram1.log());
    }

    @Test
    void writeZeroesIsNotSupportedAsIn61() {
        BlockDevice md = h.create("0 1024 delay ram0 0 0").disk();
        Bio wz = Bio.writeZeroes(0, 512);
        md.submit(wz);
        assertEquals(BlkStatus.Code.NOTSUPP, wz.await().code());
    }
}
