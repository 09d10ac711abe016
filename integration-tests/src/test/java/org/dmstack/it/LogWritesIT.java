package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dm-log-writes bundle in a real framework: a log-writes table from the config folder, a mark by dmsetup message, replay-log in the shell. */
class LogWritesIT {
    @TempDir Path config;
    @TempDir Path work;

    @Test
    void aTableFileLogsWritesAndReplayLogRebuildsTheDevice() throws Exception {
        Files.writeString(config.resolve("brd.cfg"), "rd_nr = 3\nrd_size = 4096\n");
        Files.writeString(config.resolve("lw.table"), "0 8192 log-writes ram0 ram1\n");
        try (ItStack s = ItStack.start(config)) {
            s.awaitOutput("dmsetup table lw", "0 8192 log-writes 1:0 1:1\n");
            assertEquals("0 8192 log-writes 0 0\n", s.run("dmsetup status lw"));
            s.run("dd if=/dev/urandom of=/dev/mapper/lw bs=4K count=4");
            s.run("dmsetup message lw 0 mark after-dd");
            // The mark is logged by the target's thread: entry 1 in log sector 1.
            s.awaitOutput("dmsetup status lw", "0 8192 log-writes 1 1\n");
            assertEquals("device-mapper: message ioctl on lw  failed: Invalid argument (Unrecognised log writes target message received: sync)\nCommand failed.",
                    s.fail("dmsetup message lw 0 sync now"));

            // Removing the device completes the log: the unflushed writes, then the closing mark.
            s.delete("lw.table");
            s.awaitOutput("dmsetup ls", "No devices found\n");
            assertEquals("Log version=1, sectorsize=512, entries=6\n", s.run("replay-log --log ram1"));
            assertEquals("0@2\n", s.run("replay-log --log /dev/ram1 --find --end-mark after-dd"));
            assertEquals("", s.run("replay-log --log ram1 --replay ram2"));
            s.run("dd if=/dev/ram0 of=" + work.resolve("ram0") + " bs=4K count=4");
            s.run("dd if=/dev/ram2 of=" + work.resolve("ram2") + " bs=4K count=4");
            assertArrayEquals(Files.readAllBytes(work.resolve("ram0")), Files.readAllBytes(work.resolve("ram2")));
        }
    }

    @Test
    void aTableNamingAMissingLogDeviceWaitsForIt() throws Exception {
        Files.writeString(config.resolve("brd.cfg"), "rd_nr = 1\nrd_size = 4096\n");
        try (ItStack s = ItStack.start(config)) {
            s.write("lw.table", "0 8192 log-writes ram0 ram1\n");
            s.awaitTableState("lw", "pending: line 1: log-writes: Log device lookup failed: ram1: No such device");
            s.write("brd.cfg", "rd_nr = 2\nrd_size = 4096\n");
            s.awaitOutput("dmsetup table lw", "0 8192 log-writes 1:0 1:1\n");
        }
    }
}
