package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.dmstack.launcher.Dmstack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** flakey, dust and delay from table files in the config folder, in the real bundles, with I/O through the shell. */
class FlakeyDustDelayIT {
    @TempDir Path dir;

    @Test
    void eachTestingTargetFromATableFileDoesWhatItSays() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("brd.cfg"), "rd_nr = 3\nrd_size = 4096\n");
        // Always down (up 0 s, down 1 s), losing writes: what was there stays there.
        Files.writeString(config.resolve("lossy.table"), "0 8192 flakey ram0 0 0 1 1 drop_writes\n");
        Files.writeString(config.resolve("dusty.table"), "0 8192 dust ram1 0 4096\n");
        Files.writeString(config.resolve("slow.table"), "0 8192 delay ram2 0 20 ram2 0 0\n");
        try (ItStack s = ItStack.start(config)) {
            // The devices come in the order their target types do, so their minors vary; their tables do not.
            s.awaitOutput("dmsetup table", "dusty: 0 8192 dust 1:1 0 4096\nlossy: 0 8192 flakey 1:0 0 0 1 1 drop_writes \nslow: 0 8192 delay 1:2 0 20 1:2 0 0\n");
            assertEquals("dusty: 0 8192 dust 1:1 bypass verbose\nlossy: 0 8192 flakey \nslow: 0 8192 delay 0 0 0\n", s.run("dmsetup status"));
            String targets = s.run("dmsetup targets");
            assertTrue(targets.matches("(?s).*\\bflakey +v1\\.5\\.0\n.*") && targets.matches("(?s).*\\bdust +v1\\.0\\.0\n.*")
                    && targets.matches("(?s).*\\bdelay +v1\\.3\\.0\n.*"), targets);

            Path ones = dir.resolve("ones.bin"), back = dir.resolve("back.bin");
            byte[] data = new byte[8192];
            Arrays.fill(data, (byte) 1);
            Files.write(ones, data);

            // flakey: the write is acknowledged and lost.
            s.run("dd if=" + ones + " of=/dev/mapper/lossy bs=4k count=2 status=none conv=fsync");
            s.run("dd if=/dev/ram0 of=" + back + " bs=4k count=2 status=none");
            assertArrayEquals(new byte[8192], Files.readAllBytes(back));

            // dust: a bad block reads until enabled, fails after, and a write clears it.
            String added = s.run("dmsetup message dusty 0 addbadblock 1");
            assertEquals("dust_add_block: badblock added at block 1 with write fail count 0\n", reply(added));
            assertTrue(added.contains(" INFO  DustTargetType: dust_add_block: badblock added at block 1 with write fail count 0\n"), "logged too: " + added);
            s.run("dd if=/dev/mapper/dusty of=/dev/null bs=4k skip=1 count=1 status=none");
            assertEquals("enabling read failures on bad sectors\n", reply(s.run("dmsetup message dusty 0 enable")));
            Dmstack.Result r = s.dmstack.execute("dd if=/dev/mapper/dusty of=/dev/null bs=4k skip=1 count=1 status=none");
            assertTrue(r.error() != null && r.error().startsWith("dd: error reading '/dev/mapper/dusty': Input/output error"), r.error());
            assertEquals("0 8192 dust 1:1 fail_read_on_bad_block verbose\n", s.run("dmsetup status dusty"));
            assertEquals("1\n", reply(s.run("dmsetup message dusty 0 listbadblocks")));
            assertEquals("device-mapper: message ioctl on dusty  failed: Invalid argument (dust_add_block: block 1 already in badblocklist)\nCommand failed.",
                    s.fail("dmsetup message dusty 0 addbadblock 1"));
            s.run("dd if=" + ones + " of=/dev/mapper/dusty bs=4k seek=1 count=1 status=none");
            assertEquals("dust_query_block: block 1 not found in badblocklist\n", reply(s.run("dmsetup message dusty 0 queryblock 1")));
            s.run("dd if=/dev/mapper/dusty of=/dev/null bs=4k skip=1 count=1 status=none");

            // delay: reads are held 20 ms on the real timer, writes are not; the data is all there.
            s.run("dd if=" + ones + " of=/dev/mapper/slow bs=4k count=2 status=none conv=fsync");
            s.run("dd if=/dev/mapper/slow of=" + back + " bs=4k count=2 status=none");
            assertArrayEquals(data, Files.readAllBytes(back));
            s.run("dmsetup suspend slow; dmsetup resume slow");
            assertEquals("0 8192 delay 0 0 0\n", s.run("dmsetup status slow"));
        }
    }

    /**
     * What the command printed, without the log lines the test framework's logging configuration
     * sends to the same standard output (the launcher's sends them to a file and standard error).
     */
    private static String reply(String output) {
        StringBuilder sb = new StringBuilder();
        for (String line : output.split("\n")) if (!line.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} [A-Z]+ .*")) sb.append(line).append('\n');
        return sb.toString();
    }
}
