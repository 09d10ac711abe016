package org.dmstack.dm.flakey;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.StatusType;
import org.dmstack.testkit.Bios;
import org.dmstack.testkit.RecordingDevice;
import org.dmstack.testkit.RecordingDevice.RecordedBio;
import org.dmstack.testkit.TargetHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** flakey as Linux 6.1 has it: its grammar and errors, its table line, and its I/O at a clock the test moves. */
class FlakeyTargetTypeTest {
    private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
    private final RecordingDevice ram0 = RecordingDevice.builder("ram0", 1, 0).sectors(4096).writeCache(true).build();
    private final TargetHarness h = TargetHarness.of(new FlakeyTargetType(nanos::get)).with(ram0);

    @AfterEach
    void close() {
        h.close();
    }

    private void seconds(long s) {
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(s));
    }

    private String refused(String args) {
        return h.constructError("0 1024 flakey " + args);
    }

    @Test
    void refusesWhatLinuxRefusesWithItsWords() {
        assertEquals("Invalid argument count", refused("ram0 0 1"));
        assertEquals("Invalid device sector", refused("ram0 -1 1 1"));
        assertEquals("Invalid device sector", refused("ram0 8x 1 1"));
        assertEquals("Invalid up interval", refused("ram0 0 x 1"));
        assertEquals("Invalid up interval", refused("ram0 0 1 -1"), "6.1 reads the down interval with the up interval's error");
        assertEquals("Total (up + down) interval is zero", refused("ram0 0 0 0"));
        assertEquals("Total (up + down) interval is zero", refused("ram0 0 2147483648 2147483648"), "the unsigned sum wraps to zero");
        assertEquals("Interval overflow", refused("ram0 0 4294967295 2"));
        assertEquals("Invalid number of feature args", refused("ram0 0 1 1 7 a b c d e f g"));
        assertEquals("Invalid number of feature args", refused("ram0 0 1 1 2 drop_writes"));
        assertEquals("Invalid number of feature args", refused("ram0 0 1 1 x"));
        assertEquals("Feature drop_writes duplicated", refused("ram0 0 1 1 2 drop_writes DROP_WRITES"));
        assertEquals("Feature error_writes duplicated", refused("ram0 0 1 1 2 error_writes error_writes"));
        assertEquals("Feature drop_writes conflicts with feature error_writes", refused("ram0 0 1 1 2 error_writes drop_writes"));
        assertEquals("Feature error_writes conflicts with feature drop_writes", refused("ram0 0 1 1 2 drop_writes error_writes"));
        assertEquals("Feature corrupt_bio_byte requires parameters", refused("ram0 0 1 1 1 corrupt_bio_byte"));
        assertEquals("Invalid corrupt bio byte", refused("ram0 0 1 1 5 corrupt_bio_byte 0 r 1 0"));
        assertEquals("Invalid corrupt bio direction (r or w)", refused("ram0 0 1 1 5 corrupt_bio_byte 1 x 1 0"));
        assertEquals("Invalid corrupt bio direction (r or w)", refused("ram0 0 1 1 2 corrupt_bio_byte 1"));
        assertEquals("Invalid corrupt value to write into bio byte (0-255)", refused("ram0 0 1 1 5 corrupt_bio_byte 1 r 256 0"));
        assertEquals("Invalid corrupt bio flags mask", refused("ram0 0 1 1 5 corrupt_bio_byte 1 r 1 -1"));
        assertEquals("Insufficient feature arguments", refused("ram0 0 1 1 2 corrupt_bio_byte 1 r 1 0"), "the group count runs below zero, as Linux's unsigned argc");
        assertEquals("Unrecognised flakey feature requested", refused("ram0 0 1 1 1 error_reads"), "6.1 has no error_reads");
        assertEquals("drop_writes is incompatible with corrupt_bio_byte with the WRITE flag set", refused("ram0 0 1 1 6 drop_writes corrupt_bio_byte 1 w 1 0"));
        assertEquals("error_writes is incompatible with corrupt_bio_byte with the WRITE flag set", refused("ram0 0 1 1 6 corrupt_bio_byte 1 W 1 0 error_writes"));
        assertEquals("Device lookup failed: ram9: No such device", refused("ram9 0 1 1"));
        assertEquals("Invalid up interval", refused("ram9 0 x 1"), "the device is looked up last");
    }

    @Test
    void printsItsTableAsLinuxForEveryForm() throws Exception {
        assertEquals("1:0 8 5 10 0 ", h.construct("0 1024 flakey ram0 8 5 10").status(StatusType.TABLE));
        assertEquals("1:0 8 5 10 0 ", h.construct("0 1024 flakey ram0 8 5 10 0").status(StatusType.TABLE));
        assertEquals("1:0 0 1 0 1 drop_writes ", h.construct("0 1024 flakey ram0 0 1 0 1 drop_writes").status(StatusType.TABLE));
        assertEquals("1:0 0 0 1 1 error_writes ", h.construct("0 1024 flakey 1:0 0 0 1 1 Error_Writes").status(StatusType.TABLE));
        assertEquals("1:0 0 1 1 5 corrupt_bio_byte 32 r 1 0 ", h.construct("0 1024 flakey ram0 0 1 1 5 corrupt_bio_byte 32 r 1 0").status(StatusType.TABLE));
        assertEquals("1:0 0 1 1 6 error_writes corrupt_bio_byte 32 r 255 131072 ",
                h.construct("0 1024 flakey ram0 0 1 1 6 corrupt_bio_byte 32 R 255 131072 error_writes").status(StatusType.TABLE));
        assertEquals("1:0 0 1 1 5 corrupt_bio_byte 1 w 0 1 ", h.construct("0 1024 flakey ram0 0 1 1 5 corrupt_bio_byte 1 w 0 1").status(StatusType.TABLE));
        assertEquals("", h.construct("0 1024 flakey ram0 0 1 1").status(StatusType.INFO));
        assertEquals("0 1024 flakey 1:0 8 5 10 0 \n", table("0 1024 flakey ram0 8 5 10"));
    }

    private String table(String table) {
        String name = h.create(table).name();
        return h.dm().table(name);
    }

    private BlockDevice create(String args) {
        return h.create("0 1024 flakey ram0 " + args).disk();
    }


    private BlkStatus write(BlockDevice md, long sector, int value, BioFlag... flags) {
        return Bios.submit(md, Bio.write(sector, Bios.filled(1, value), flags));
    }

    private static BlkStatus.Code code(BlkStatus s) {
        return s.code();
    }

    @Test
    void upMapsLikeLinearAndDownFailsEverythingWithoutFeatures() {
        BlockDevice md = create("100 2 3");
        assertEquals(BlkStatus.OK, write(md, 5, 0x11));
        assertArrayEquals(Bios.filled(1, 0x11).toArray(ValueLayout.JAVA_BYTE), ram0.read(105, 1));
        seconds(1);
        assertEquals(BlkStatus.OK, write(md, 6, 0x12), "1 s after construction: still in the 2 s up interval");
        seconds(1);
        ram0.clear();
        assertEquals(BlkStatus.Code.IOERR, code(write(md, 5, 0x22)), "2 s: down");
        assertEquals(BlkStatus.Code.IOERR, code(Bios.submit(md, Bio.read(5, Bios.filled(1, 0)))));
        assertEquals(BlkStatus.Code.IOERR, code(Bios.submit(md, Bio.flush())), "a flush is a write to Linux");
        assertEquals(BlkStatus.Code.IOERR, code(Bios.submit(md, Bio.discard(0, 4096))));
        assertEquals(List.of(), ram0.bios(), "nothing reached the device while down");
        assertArrayEquals(Bios.filled(1, 0x11).toArray(ValueLayout.JAVA_BYTE), ram0.read(105, 1));
        seconds(2);
        assertEquals(BlkStatus.Code.IOERR, code(write(md, 5, 0x22)), "4 s: still down (2 up + 3 down)");
        seconds(1);
        assertEquals(BlkStatus.OK, write(md, 5, 0x33), "5 s: up again, the next period");
        assertArrayEquals(Bios.filled(1, 0x33).toArray(ValueLayout.JAVA_BYTE), ram0.read(105, 1));
    }

    @Test
    void dropWritesAcknowledgesAndLosesWritesWhileReadsStillWork() {
        BlockDevice md = create("0 0 1 1 drop_writes");
        ram0.sectors(7, 1).fill((byte) 0x44);
        assertEquals(BlkStatus.OK, write(md, 7, 0x55));
        assertEquals(BlkStatus.OK, write(md, 7, 0x56, BioFlag.FUA));
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.flush()));
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.discard(0, 512)));
        assertEquals(List.of(), ram0.bios(), "acknowledged, but never sent down");
        MemorySegment back = Bios.filled(1, 0);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(7, back)));
        assertArrayEquals(Bios.filled(1, 0x44).toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE), "the old data, as a disk that lost the writes");
    }

    @Test
    void errorWritesFailsWritesWhileReadsStillWork() {
        BlockDevice md = create("0 0 1 1 error_writes");
        ram0.sectors(7, 1).fill((byte) 0x44);
        assertEquals(BlkStatus.Code.IOERR, code(write(md, 7, 0x55)));
        assertEquals(BlkStatus.Code.IOERR, code(Bios.submit(md, Bio.flush())));
        MemorySegment back = Bios.filled(1, 0);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(7, back)));
        assertArrayEquals(Bios.filled(1, 0x44).toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(List.of(new RecordedBio(BioOp.READ, 7, 1, Set.of())), ram0.bios());
    }

    @Test
    void corruptsTheNthByteOfReadsWhileDown() {
        ram0.sectors(0, 2).fill((byte) 0x44);
        BlockDevice md = create("0 1 1 5 corrupt_bio_byte 513 r 7 0");
        MemorySegment back = Bios.filled(2, 0);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(0, back)), "up: read as it is");
        assertArrayEquals(Bios.filled(2, 0x44).toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
        seconds(1);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(0, back)));
        byte[] expected = Bios.filled(2, 0x44).toArray(ValueLayout.JAVA_BYTE);
        expected[512] = 7;
        assertArrayEquals(expected, back.toArray(ValueLayout.JAVA_BYTE), "byte 513 (the first of the second sector) is 7");
        MemorySegment shortRead = Bios.filled(1, 0);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(0, shortRead)), "a bio shorter than N bytes passes untouched");
        assertArrayEquals(Bios.filled(1, 0x44).toArray(ValueLayout.JAVA_BYTE), shortRead.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(BlkStatus.Code.IOERR, code(write(md, 0, 0x55)), "6.1 fails writes when the direction is r");
        assertArrayEquals(Bios.filled(1, 0x44).toArray(ValueLayout.JAVA_BYTE), ram0.read(0, 1), "the device kept its data");
    }

    @Test
    void corruptsTheNthByteOfMatchingWritesOnTheDeviceOnly() {
        long fua = FlakeyTargetType.REQ_FUA;
        BlockDevice md = create("0 0 1 5 corrupt_bio_byte 1 w 255 " + fua);
        MemorySegment data = Bios.filled(1, 0x55);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.write(3, data)), "no FUA: not corrupted");
        assertArrayEquals(Bios.filled(1, 0x55).toArray(ValueLayout.JAVA_BYTE), ram0.read(3, 1));
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.write(4, data, BioFlag.FUA)));
        byte[] expected = Bios.filled(1, 0x55).toArray(ValueLayout.JAVA_BYTE);
        expected[0] = (byte) 0xff;
        assertArrayEquals(expected, ram0.read(4, 1));
        assertArrayEquals(Bios.filled(1, 0x55).toArray(ValueLayout.JAVA_BYTE), data.toArray(ValueLayout.JAVA_BYTE), "the writer's buffer is left alone");
        assertEquals(BlkStatus.Code.IOERR, code(Bios.submit(md, Bio.read(4, Bios.filled(1, 0)))), "6.1 fails the reads it does not corrupt");
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.flush()), "a flush carries no data: sent on");
    }

    @Test
    void flagsMaskMatchesLinuxBiOpf() {
        BlockDevice md = create("0 0 1 5 corrupt_bio_byte 1 r 9 0");
        ram0.sectors(0, 1).fill((byte) 1);
        MemorySegment back = Bios.filled(1, 0);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(0, back)), "mask 0 matches every read");
        assertEquals(9, back.get(ValueLayout.JAVA_BYTE, 0));
        BlockDevice writesOnly = create("0 0 1 5 corrupt_bio_byte 1 r 9 1");
        assertEquals(BlkStatus.Code.IOERR, code(Bios.submit(writesOnly, Bio.read(0, back))), "mask REQ_OP_WRITE never matches a read; 6.1 errors it");
        assertEquals(FlakeyTargetType.REQ_OP_WRITE | FlakeyTargetType.REQ_PREFLUSH | FlakeyTargetType.REQ_SYNC, FlakeyTargetType.opf(Bio.flush()));
        assertEquals(FlakeyTargetType.REQ_OP_WRITE | FlakeyTargetType.REQ_FUA | FlakeyTargetType.REQ_PREFLUSH,
                FlakeyTargetType.opf(Bio.write(0, Bios.filled(1, 0), BioFlag.FUA, BioFlag.PREFLUSH)));
    }

    @Test
    void theClockStartsWhenTheLineIsConstructedAndAReloadRestartsIt() {
        BlockDevice md = create("0 1 1");
        seconds(1);
        assertEquals(BlkStatus.Code.IOERR, code(write(md, 0, 1)));
        h.dm().load("test0", "0 1024 flakey ram0 0 1 1");
        h.dm().suspend("test0");
        h.dm().resume("test0");
        assertEquals(BlkStatus.OK, write(md, 0, 1), "the new line's up interval has just begun");
    }

    @Test
    void anEmptyFlushOnALaterLineGoesToTheDeviceUnchanged() throws Exception {
        org.dmstack.dm.Target t = h.construct("4096 1024 flakey ram0 8 10 10");
        Bio flush = Bio.flush();
        assertEquals(org.dmstack.dm.MapResult.REMAPPED, t.map(flush));
        assertEquals(0, flush.sector());
        assertEquals(ram0.device(), flush.device());
    }

    @Test
    void writeZeroesIsNotSupportedAsIn61() {
        BlockDevice md = create("0 1 1");
        assertEquals(BlkStatus.Code.NOTSUPP, code(Bios.submit(md, Bio.writeZeroes(0, 512))));
    }
}
