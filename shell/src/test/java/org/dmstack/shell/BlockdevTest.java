package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.GenDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * blockdev over ram0 (64 MiB, 512-byte logical and 4096-byte physical blocks, 2560 sectors a
 * request), ram1 (1 MiB + 512 bytes) and lv (linear over all of ram0), against what util-linux
 * 2.38.1's blockdev printed for the same commands on loop devices of this machine.
 */
class BlockdevTest {
    private final Stack stack = new Stack();
    private final GenDisk ram0 = stack.ram(0, 64 << 20);

    BlockdevTest() {
        stack.ram(1, (1 << 20) + 512);
        stack.dm.create("lv", "0 131072 linear ram0 0");
    }

    @AfterEach
    void close() {
        stack.close();
    }

    private String run(String line) {
        return Stack.capture((out, err) -> new Blockdev(stack.registry).run(line.isEmpty() ? List.of() : List.of(line.split(" ")), out, err));
    }

    private String fails(String line) {
        return assertThrows(CommandException.class, () -> run(line), line).getMessage();
    }

    @Test
    void blockdevHoldsTheDeviceOpenForItsIoctls() {
        // util-linux's blockdev opens the device, runs the ioctls, closes it.
        List<Integer> seen = new java.util.ArrayList<>();
        ram0.attributes().define("ro", () -> {
            seen.add(stack.registry.openCount(ram0.devt()));
            return "0";
        });
        assertEquals("0\n0\n", run("--getro --getro /dev/ram0"));
        assertEquals(List.of(2, 2), seen, "lv's table, and blockdev");
        assertEquals(1, stack.registry.openCount(ram0.devt()));
    }

    @Test
    void everyGetter() {
        assertEquals("131072\n67108864\n512\n4096\n4096\n0\n0\n2560\n4096\n0\n256\n256\n0\n131072\n",
                run("--getsz --getsize64 --getss --getpbsz --getiomin --getioopt --getalignoff --getmaxsect --getbsz --getro --getra --getfra"
                        + " --getdiscardzeroes --getsize /dev/ram0"));
        assertEquals("get size in bytes: 67108864\nget readahead: 256\nget blocksize: 4096\n131072\n",
                run("-v --getsize64 --getra --getbsz --getsz /dev/mapper/lv"));
        // Commands apply to each device in turn; -q turns -v off again.
        assertEquals("131072\n2049\n", run("--getsz /dev/ram0 /dev/ram1"));
        assertEquals("get read-only: 0\n0\n", run("-v --getro -q --getro /dev/dm-0"));
        // set_init_blocksize: 1 MiB + 512 bytes is a multiple of 512 only.
        assertEquals("512\n", run("--getbsz /dev/ram1"));
    }

    @Test
    void setroRefusesWritesUntilSetrw() {
        assertEquals("set read-only succeeded.\nget read-only: 1\n", run("-v --setro --getro /dev/ram0"));
        assertEquals("1", ram0.attributes().read("ro"));
        Bio write = Bio.write(0, Arena.ofAuto().allocate(512));
        ram0.submit(write);
        assertEquals("IOERR: Trying to write to read-only block-device ram0", write.await().toString());
        assertEquals("0\n", run("--setrw --getro /dev/ram0"));
        // The driver's flag is not the user's: --setrw leaves a disk its driver made read-only as it is.
        ram0.setReadOnly(true);
        assertEquals("1\n", run("--setrw --getro /dev/ram0"));
    }

    @Test
    void readAheadAndBlockSize() {
        // BLKRASET keeps whole pages: 1000 sectors are 125 pages, 1000 sectors again.
        assertEquals("1000\n", run("--setra 1000 --getra /dev/mapper/lv"));
        assertEquals("1024\n", run("--setra 1031 --getra /dev/mapper/lv"));
        assertEquals("512", stack.registry.lookup("dm-0").attributes().read("queue/read_ahead_kb"));
        assertTrue(Stack.capture((out, err) -> new Dmsetup(stack.dm, Path.of(".")).run(List.of("info", "lv"), out)).contains("Read Ahead:        1024\n"));
        assertEquals("set filesystem readahead succeeded.\nget filesystem readahead: 16\n", run("-v --setfra 16 --getfra /dev/ram0"));
        // --setbsz lasts for this command line only: the next open starts from set_init_blocksize again.
        assertEquals("1024\n", run("--setbsz 1024 --getbsz /dev/ram0"));
        assertEquals("4096\n", run("--getbsz /dev/ram0"));
        assertEquals("blockdev: ioctl error on BLKBSZSET: Invalid argument", fails("--setbsz 1000 /dev/ram0"));
        assertEquals("blockdev: ioctl error on BLKBSZSET: Invalid argument", fails("--setbsz 8192 /dev/ram0"));
        assertEquals("blockdev: failed to parse command argument: 'x'", fails("--setra x /dev/ram0"));
    }

    @Test
    void report() {
        String header = "RO    RA   SSZ   BSZ        StartSec            Size   Device\n";
        run("--setro /dev/ram1");
        assertEquals(header
                + "rw   256   512  4096               0        67108864   /dev/ram0\n"
                + "ro   256   512   512               0         1049088   /dev/ram1\n"
                + "rw   256   512  4096               0        67108864   /dev/dm-0\n", run("--report"));
        assertEquals(header + "rw   256   512  4096               0        67108864   /dev/mapper/lv\n"
                + "--err--\nblockdev: cannot open /dev/nosuch: No such file or directory\n"
                + "blockdev: cannot open ram0: No such file or directory\n", run("--report /dev/mapper/lv /dev/nosuch ram0"));
    }

    @Test
    void errorsAsBlockdevGivesThem() {
        String tryHelp = "\nTry 'blockdev --help' for more information.";
        assertEquals("blockdev: not enough arguments" + tryHelp, fails(""));
        assertEquals("blockdev: no device specified" + tryHelp, fails("--getsz"));
        assertEquals("blockdev: no device specified" + tryHelp, fails("--getfoo"));
        assertEquals("blockdev: Unknown command: --getfoo" + tryHelp, fails("--getfoo /dev/ram0"));
        assertEquals("blockdev: cannot open /dev/nosuch: No such file or directory", fails("--getsz /dev/nosuch"));
        assertEquals("blockdev: cannot open ram0: No such file or directory", fails("--getsz ram0"));
        assertEquals("blockdev: ioctl error on BLKRRPART: Invalid argument", fails("--rereadpt /dev/ram0"));
        // The commands before a failing one have run and printed (blockdev 2.38 takes "--" for a command there).
        CommandException e = assertThrows(CommandException.class, () -> new Blockdev(stack.registry).run(List.of("--getsz", "--", "/dev/ram0"),
                System.out, System.err));
        assertEquals("blockdev: Unknown command: --" + tryHelp, e.getMessage());
    }

    @Test
    void helpAsUtilLinuxPrintsIt() throws Exception {
        String help = run("--help");
        assertEquals(help, run("-h"));
        assertTrue(help.startsWith("\nUsage:\n blockdev [-v|-q] commands devices\n"), help);
        assertTrue(help.contains("\n --setbsz <bytes>          set blocksize on file descriptor opening the block device\n"), help);
        assertTrue(help.endsWith("\n --rereadpt                reread partition table\n\nFor more details see blockdev(8).\n"), help);
        Process p;
        try {
            p = new ProcessBuilder("blockdev", "--help").redirectErrorStream(true).start();
        } catch (IOException noBlockdev) {
            Assumptions.abort("util-linux's blockdev is not installed");
            return;
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8), help);
    }
}
