package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.dmstack.dm.logwrites.LogWritesTargetType;
import org.dmstack.shell.dd.Dd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** replay-log in the shell: a log written through log-writes with dd and dmsetup message, read back and replayed by name. */
class ReplayLogCommandTest {
    @TempDir Path dir;
    private Stack stack;

    @BeforeEach
    void setUp() {
        stack = new Stack();
        stack.dm.targetTypes().register(new LogWritesTargetType());
        stack.ram(0, 1 << 20);
        stack.ram(1, 1 << 20);
        stack.ram(2, 1 << 20);
        dmsetup("create", "lw", "--table", "0 2048 log-writes ram0 ram1");
        dd("if=/dev/urandom of=/dev/mapper/lw bs=4K count=2");
        dmsetup("message", "lw", "0", "mark", "first");
        dd("if=/dev/zero of=/dev/mapper/lw bs=4K count=1 seek=4");
        dmsetup("message", "lw", "0", "mark", "second");
        dmsetup("remove", "lw");
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    private void dmsetup(String... words) {
        Stack.capture((out, err) -> new Dmsetup(stack.dm, dir).run(List.of(words), out));
    }

    private void dd(String line) {
        Stack.capture((out, err) -> new Dd(stack.registry, dir).run(Stack.words(line), out, err));
    }

    private String replayLog(String line) {
        return replayLog(Stack.words(line));
    }

    private String replayLog(List<String> args) {
        return Stack.capture((out, err) -> new ReplayLogCommand(stack.registry, dir).run(args, out));
    }

    private String fails(String line) {
        return assertThrows(CommandException.class, () -> replayLog(line)).getMessage();
    }

    /** --help and -h print the usage on stdout and succeed, as every dmstack command does. */
    @Test
    void helpPrintsTheUsage() {
        assertEquals(ReplayLogCommand.USAGE, replayLog("--help"));
        assertEquals(ReplayLogCommand.USAGE, replayLog("-h"));
    }

    @Test
    void describesFindsAndCountsAsTheToolDoes() {
        // Marks are logged at once; dd's two 4K writes and its third, never flushed (dd ran without conv=fsync), when the device went.
        assertEquals("Log version=1, sectorsize=512, entries=6\n", replayLog("--log ram1"));
        assertEquals("6\n", replayLog("--log /dev/ram1 --num-entries"));
        assertEquals("1@3\n", replayLog("--log 1:1 --find --end-mark second"));
        assertEquals("5@31\n", replayLog("--log ram1 --find --end-mark dm-log-writes-end"));
        assertEquals("Couldn't find entry", fails("--log ram1 --find --end-mark third"));
    }

    @Test
    void replaysOntoADeviceByName() throws IOException {
        assertEquals("""
                replaying 0@2: sector 0, size 0, flags 0x8(MARK)
                replaying 1@3: sector 0, size 0, flags 0x8(MARK)
                replaying 2@4: sector 0, size 4096, flags 0x0(NONE)
                replaying 3@13: sector 8, size 4096, flags 0x0(NONE)
                replaying 4@22: sector 32, size 4096, flags 0x0(NONE)
                replaying 5@31: sector 0, size 0, flags 0x8(MARK)
                """, replayLog("--log ram1 --replay /dev/ram2 -v"));
        dd("if=/dev/ram0 of=" + dir.resolve("ram0") + " bs=4K count=8");
        dd("if=/dev/ram2 of=" + dir.resolve("ram2") + " bs=4K count=8");
        assertArrayEquals(Files.readAllBytes(dir.resolve("ram0")), Files.readAllBytes(dir.resolve("ram2")));
    }

    /**
     * A log-writes device is write back whatever lies below (6.1's flush_supported), so dd's
     * conv=fsync reaches the log as a FLUSH entry, after the writes it made durable, even over
     * write-through RAM disks.
     */
    @Test
    void aFlushFromDdIsLoggedOverWriteThroughRamDisks() {
        dmsetup("create", "lw2", "--table", "0 2048 log-writes ram0 ram2");
        dd("if=/dev/zero of=/dev/mapper/lw2 bs=4K count=1 conv=fsync");
        dmsetup("remove", "lw2");
        assertEquals("1@11\n", replayLog("--log ram2 --find --next-flush"));
        assertEquals("""
                replaying 0@2: sector 0, size 4096, flags 0x0(NONE)
                replaying 1@11: sector 0, size 0, flags 0x1(FLUSH)
                replaying 2@12: sector 0, size 0, flags 0x8(MARK)
                """, replayLog("--log ram2 --replay ram1 -v"));
    }

    @Test
    void runsTheFsckCommandAndStopsWhenItFails() {
        assertEquals("ok\nok\nok\n", replayLog(List.of("--log", "ram1", "--replay", "ram2", "--check", "2", "--fsck", "echo ok")));
        assertEquals("Fsck errored out on entry 1",
                assertThrows(CommandException.class, () -> replayLog(List.of("--log=ram1", "--replay=ram2", "--check=2", "--fsck=exit 3"))).getMessage());
    }

    /**
     * glibc's getopt_long as replay-log calls it: a prefix shared by options that all take an
     * argument (or all take none) means the first in long_options; words that are not options
     * are skipped; the errors are glibc's, then replay-log.c's usage(), typos included.
     */
    @Test
    void readsItsOptionsAsGetoptLongDoes() {
        assertEquals("6\n", replayLog("--log ram1 --num"));
        assertEquals("6\n", replayLog("--l ram1 --nu stray words"));
        assertEquals("1@3\n", replayLog("--lo=ram1 --fi --e second"));
        assertEquals("Log version=1, sectorsize=512, entries=6\n", replayLog("--log ram1 -- --find"));
        assertEquals("replay-log: option '--f' is ambiguous; possibilities: '--find' '--fsck'\n" + ReplayLogCommand.USAGE.stripTrailing(),
                fails("--log ram1 --f"));
        assertEquals("replay-log: invalid option -- 'x'\n" + ReplayLogCommand.USAGE.stripTrailing(), fails("--log ram1 -vx"));
        assertEquals("replay-log: option '--log' requires an argument\n" + ReplayLogCommand.USAGE.stripTrailing(), fails("--lo"));
        assertEquals("replay-log: option '--find' doesn't allow an argument\n" + ReplayLogCommand.USAGE.stripTrailing(), fails("--log ram1 --find=1"));
        assertTrue(ReplayLogCommand.USAGE.contains("\n\t--number-entries - print the number of entries in the log\n"));
        assertTrue(ReplayLogCommand.USAGE.contains("\n\t--check [<number>|flush|fua] when to check the file system, mush specify --fsck\n"));
        assertTrue(ReplayLogCommand.USAGE.endsWith("\n\t-v or --verbose - print replayed ops\n\t-vv - print also skipped ops\n"));
    }

    @Test
    void refusesWhatTheToolRefuses() {
        assertTrue(fails("--replay ram2").startsWith("Usage: replay-log --log <logfile> [options]"));
        assertTrue(fails("--log ram1 --check flush").startsWith("Usage: replay-log"));
        assertTrue(fails("--log ram1 --bogus").startsWith("replay-log: unrecognized option '--bogus'\nUsage: replay-log"));
        assertEquals("Invalid entry number", fails("--log ram1 --limit 12x"));
        assertEquals("Invalid entry number", fails("--log ram1 --check 0 --fsck true"));
        assertEquals("Couldn't open log ram7: No such device or file", fails("--log ram7"));
        // replay-log.c reads the numbers while it reads the options, before it opens the log.
        assertEquals("Invalid entry number", fails("--log ram7 --start-entry 1O"));
        assertEquals("Invalid sector number", fails("--end-sector x --log ram7"));
        assertEquals("Magic doesn't match", fails("--log ram2"));
    }
}
