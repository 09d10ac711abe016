package org.dmstack.dm.dust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.DmException;
import org.dmstack.testkit.Bios;
import org.dmstack.testkit.RecordingDevice;
import org.dmstack.testkit.TargetHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** dust as Linux 6.1 has it: grammar and errors, table and status, every message's reply and log line, and bad blocks under I/O. */
class DustTargetTypeTest {
    private final List<String> log = new ArrayList<>();
    private final RecordingDevice ram0 = RecordingDevice.builder("ram0", 1, 0).sectors(4096).build();
    private final TargetHarness h = TargetHarness.of(new DustTargetType(new DustTargetType.KernelLog() {
        @Override
        public void info(String line) {
            log.add("info: " + line);
        }

        @Override
        public void error(String line) {
            log.add("error: " + line);
        }
    })).with(ram0);

    @AfterEach
    void close() {
        h.close();
    }

    private String refused(String line) {
        return h.constructError(line);
    }

    @Test
    void refusesWhatLinuxRefusesInItsOrder() throws Exception {
        assertEquals("Invalid argument count", refused("0 1024 dust ram0 0"));
        assertEquals("Invalid argument count", refused("0 1024 dust ram0 0 512 1"));
        assertEquals("Invalid block size parameter", refused("0 1024 dust ram0 x 0"));
        assertEquals("Invalid block size parameter", refused("0 1024 dust ram0 0 4k"));
        assertEquals("Invalid block size parameter", refused("0 1024 dust ram0 0 4294967296"), "kstrtouint refuses what does not fit");
        assertEquals("Block size must be at least 512", refused("0 1024 dust ram0 0 256"));
        assertEquals("Block size must be a power of 2", refused("0 1024 dust ram0 0 1536"));
        assertEquals("Block size is too large", refused("0 1024 dust ram0 0 1048576"), "2048 sectors on a 1024-sector line");
        assertEquals("Block size is too large", refused("0 4194304 dust ram0 0 2147483648"), "above 1 GiB");
        assertEquals("Invalid device offset sector", refused("0 1024 dust ram0 x 512"));
        assertEquals("Invalid device offset sector", refused("0 1024 dust ram9 -8 512"), "the offset before the device");
        assertEquals("Device lookup failed: ram9: No such device", refused("0 1024 dust ram9 0 512"));
        assertEquals("1:0 8 4096", h.construct("0 1024 dust ram0 8 +4096").status(org.dmstack.dm.StatusType.TABLE), "kstrtouint takes a '+'");
    }

    @Test
    void tableAndStatusForEveryState() {
        h.create("0 2048 dust ram0 16 4096");
        assertEquals("0 2048 dust 1:0 16 4096\n", h.dm().table("test0"));
        assertEquals("0 2048 dust 1:0 bypass verbose\n", h.dm().status("test0"));
        message("enable");
        assertEquals("0 2048 dust 1:0 fail_read_on_bad_block verbose\n", h.dm().status("test0"));
        message("quiet");
        assertEquals("0 2048 dust 1:0 fail_read_on_bad_block quiet\n", h.dm().status("test0"));
        message("disable");
        message("QUIET");
        assertEquals("0 2048 dust 1:0 bypass verbose\n", h.dm().status("test0"));
    }

    private String message(String text) {
        return h.dm().message("test0", 0, List.of(text.split(" ")));
    }

    private String refusedMessage(String text) {
        return assertThrows(DmException.class, () -> message(text)).getMessage();
    }

    @Test
    void everyMessageRepliesAndLogsInLinuxWords() {
        h.create("0 4096 dust ram0 0 512");
        assertEquals("dust_add_block: badblock added at block 60 with write fail count 0", message("addbadblock 60"));
        assertEquals("dust_add_block: badblock added at block 67 with write fail count 255", message("addbadblock 67 255"));
        assertEquals("message ioctl on test0 failed: Invalid argument (dust_add_block: block 60 already in badblocklist)", refusedMessage("addbadblock 60"));
        assertEquals("dust_add_block: badblock added at block 4096 with write fail count 0", message("addbadblock 4096"), "6.1 takes the block just past the end");
        assertEquals("message ioctl on test0 failed: Invalid argument (selected block value out of range)", refusedMessage("addbadblock 4097"));
        assertEquals("message ioctl on test0 failed: Invalid argument (selected write fail count out of range)", refusedMessage("addbadblock 1 256"));
        assertEquals("message ioctl on test0 failed: Invalid argument", refusedMessage("addbadblock x"), "Linux logs nothing for a block that is no number");
        assertEquals("message ioctl on test0 failed: Invalid argument", refusedMessage("addbadblock 1 x"));
        assertEquals("message ioctl on test0 failed: Invalid argument (addbadblock requires an additional argument)", refusedMessage("addbadblock"));
        assertEquals("message ioctl on test0 failed: Invalid argument (queryblock requires an additional argument)", refusedMessage("queryblock"));
        assertEquals("message ioctl on test0 failed: Invalid argument (unrecognized message 'removebadblock' received)", refusedMessage("removebadblock 1 1"));
        assertEquals("message ioctl on test0 failed: Invalid argument (unrecognized message 'frob' received)", refusedMessage("frob"));
        assertEquals("message ioctl on test0 failed: Invalid argument (unrecognized message 'frob' received)", refusedMessage("frob 1"));
        assertEquals("message ioctl on test0 failed: Invalid argument (invalid number of arguments '4')", refusedMessage("addbadblock 1 2 3"));
        assertEquals("dust_query_block: block 60 found in badblocklist", message("queryblock 60"));
        assertEquals("dust_query_block: block 61 not found in badblocklist", message("queryblock 61"));
        assertEquals("countbadblocks: 3 badblock(s) found", message("countbadblocks"));
        assertEquals("60\n67\n4096\n", message("listbadblocks"));
        assertEquals("dust_remove_block: badblock removed at block 67", message("RemoveBadBlock 67"));
        assertEquals("message ioctl on test0 failed: Invalid argument (dust_remove_block: block 67 not found in badblocklist)", refusedMessage("removebadblock 67"));
        assertEquals("dust_clear_badblocks: badblocks cleared", message("clearbadblocks"));
        assertEquals("dust_clear_badblocks: no badblocks found", message("clearbadblocks"));
        assertEquals("No blocks in badblocklist", message("listbadblocks"));
        assertEquals("countbadblocks: 0 badblock(s) found", message("countbadblocks"));
        assertEquals("enabling read failures on bad sectors", message("enable"));
        assertEquals("disabling read failures on bad sectors", message("disable"));
        assertEquals(List.of(
                "info: dust_add_block: badblock added at block 60 with write fail count 0",
                "info: dust_add_block: badblock added at block 67 with write fail count 255",
                "error: dust_add_block: block 60 already in badblocklist",
                "info: dust_add_block: badblock added at block 4096 with write fail count 0",
                "error: selected block value out of range",
                "error: selected write fail count out of range",
                "error: addbadblock requires an additional argument",
                "error: queryblock requires an additional argument",
                "error: unrecognized message 'removebadblock' received",
                "error: unrecognized message 'frob' received",
                "error: unrecognized message 'frob' received",
                "error: invalid number of arguments '4'",
                "info: dust_remove_block: badblock removed at block 67",
                "error: dust_remove_block: block 67 not found in badblocklist",
                "info: enabling read failures on bad sectors",
                "info: disabling read failures on bad sectors"), log, "what the kernel log would hold; replies of queryblock, count, list and clear are not logged");
    }

    @Test
    void quietSilencesAddAndRemoveOnly() {
        h.create("0 4096 dust ram0 0 512");
        assertEquals("", message("quiet"));
        assertEquals("", message("addbadblock 5"));
        assertEquals("message ioctl on test0 failed: Invalid argument", refusedMessage("addbadblock 5"));
        assertEquals("message ioctl on test0 failed: Invalid argument", refusedMessage("removebadblock 6"));
        assertEquals("", message("removebadblock 5"));
        assertEquals("enabling read failures on bad sectors", message("enable"));
        assertEquals("message ioctl on test0 failed: Invalid argument (selected block value out of range)", refusedMessage("queryblock 5000"));
        assertEquals(List.of("info: enabling read failures on bad sectors", "error: selected block value out of range"), log);
    }


    private BlkStatus read(BlockDevice md, long sector, int sectors) {
        return Bios.submit(md, Bio.read(sector, Bios.filled(sectors, 0)));
    }

    @Test
    void badBlocksFailReadsOnlyOnceEnabledAndAWriteClearsThem() {
        BlockDevice md = h.create("0 2048 dust ram0 1024 4096").disk();
        ram0.sectors(1024 + 16, 8).fill((byte) 0x44);
        message("addbadblock 130");
        assertEquals(BlkStatus.OK, read(md, 16, 8), "before enable: block 130 (device sectors 1040..1047) reads");
        message("enable");
        assertEquals(BlkStatus.Code.IOERR, read(md, 16, 8).code());
        assertEquals(BlkStatus.Code.IOERR, read(md, 23, 1).code(), "any sector of the block");
        assertEquals(BlkStatus.OK, read(md, 24, 1), "the next block");
        assertEquals(BlkStatus.Code.IOERR, read(md, 8, 16).code(), "a bio over two blocks is split per block; one fails, so the bio does");
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.write(16, Bios.filled(8, 0x55))), "a write to a bad block clears it");
        assertEquals(List.of("info: dust_add_block: badblock added at block 130 with write fail count 0",
                "info: enabling read failures on bad sectors",
                "info: block 16 removed from badblocklist by write"), log, "6.1 divides the block number by 8 again in this line");
        MemorySegment back = Bios.filled(8, 0);
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.read(16, back)));
        assertArrayEquals(Bios.filled(8, 0x55).toArray(ValueLayout.JAVA_BYTE), back.toArray(ValueLayout.JAVA_BYTE));
        assertEquals("No blocks in badblocklist", message("listbadblocks"));
    }

    @Test
    void writesBeforeEnableDoNotClearAndAWriteFailCountFailsThatManyWrites() {
        BlockDevice md = h.create("0 2048 dust ram0 0 512").disk();
        message("addbadblock 3 2");
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.write(3, Bios.filled(1, 1))), "bypass: written, still bad");
        message("enable");
        assertEquals(BlkStatus.Code.IOERR, Bios.submit(md, Bio.write(3, Bios.filled(1, 2))).code());
        assertEquals(BlkStatus.Code.IOERR, Bios.submit(md, Bio.write(3, Bios.filled(1, 3))).code());
        assertArrayEquals(Bios.filled(1, 1).toArray(ValueLayout.JAVA_BYTE), ram0.read(3, 1), "failed writes never reached the device");
        assertEquals("dust_query_block: block 3 found in badblocklist", message("queryblock 3"));
        assertEquals(BlkStatus.Code.IOERR, read(md, 3, 1).code());
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.write(3, Bios.filled(1, 4))), "the third write clears it");
        assertEquals(BlkStatus.OK, read(md, 3, 1));
        assertArrayEquals(Bios.filled(1, 4).toArray(ValueLayout.JAVA_BYTE), ram0.read(3, 1));
        message("addbadblock 4");
        message("disable");
        assertEquals(BlkStatus.OK, read(md, 4, 1), "disabled: bad blocks are kept but not failed");
        assertEquals("countbadblocks: 1 badblock(s) found", message("countbadblocks"));
    }

    @Test
    void blockNumbersCountFromTheStartOfTheDeviceNotTheLine() {
        BlockDevice md = h.create("0 1024 dust ram0 2048 1024").disk();
        message("addbadblock 1024");
        message("enable");
        assertEquals(BlkStatus.Code.IOERR, read(md, 0, 1).code(), "line sector 0 is device sector 2048, block 1024 of 2 sectors");
        assertEquals(BlkStatus.OK, read(md, 2, 1));
    }

    @Test
    void anEmptyFlushCountsAsAWriteToTheBlockAtTheOffsetAsInLinux() {
        RecordingDevice cached = RecordingDevice.builder("ram3", 1, 3).sectors(4096).writeCache(true).build();
        h.with(cached);
        BlockDevice md = h.create("0 1024 dust ram3 16 4096").disk();
        message("addbadblock 2 1");
        message("enable");
        assertEquals(BlkStatus.Code.IOERR, Bios.submit(md, Bio.flush()).code(), "block 2 holds the offset (sector 16) and has a write fail count");
        assertEquals(BlkStatus.OK, Bios.submit(md, Bio.flush()), "the next one clears it");
        assertEquals("No blocks in badblocklist", message("listbadblocks"));
        assertEquals(1, cached.count(org.dmstack.block.BioOp.FLUSH), "the failed flush never reached the device");
    }

    @Test
    void writeZeroesIsNotSupportedAsIn61() {
        BlockDevice md = h.create("0 1024 dust ram0 0 512").disk();
        assertEquals(BlkStatus.Code.NOTSUPP, Bios.submit(md, Bio.writeZeroes(0, 512)).code());
    }
}
