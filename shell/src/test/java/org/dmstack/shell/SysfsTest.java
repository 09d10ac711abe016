package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SysfsTest {
    private Stack stack;

    @BeforeEach
    void setUp() {
        stack = new Stack();
        stack.ram(0, 16 << 20);
        stack.dm.create("lv0", "0 8192 linear ram0 0");
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    private String run(String... args) {
        return Stack.capture((out, err) -> new Sysfs(stack.registry).run(List.of(args), out));
    }

    @Test
    void readsAttributesByLinuxPath() {
        assertEquals("32768\n", run("/sys/block/ram0/size"));
        assertEquals("1:0\n", run("/sys/block/ram0/dev"));
        assertEquals("512\n", run("/sys/block/ram0/queue/logical_block_size"));
        assertEquals("4096\n", run("/sys/block/ram0/queue/physical_block_size"));
        assertEquals("4096\n", run("/sys/block/ram0/queue/minimum_io_size"));
        assertEquals("0\n", run("/sys/block/ram0/queue/optimal_io_size"));
        assertEquals("1280\n", run("/sys/block/ram0/queue/max_sectors_kb"));
        assertEquals("write through\n", run("/sys/block/ram0/queue/write_cache"));
        assertEquals("0\n", run("/sys/block/ram0/queue/fua"));
        assertEquals("0\n", run("/sys/block/ram0/queue/dax"));
        assertEquals("", run("/sys/block/ram0/badblocks"));
        assertEquals("lv0\n", run("/sys/block/dm-0/dm/name"));
        assertEquals("0\n", run("/sys/block/dm-0/dm/suspended"));
        assertEquals("8192\n", run("/sys/block/dm-0/size"));
    }

    @Test
    void writesWritableAttributes() {
        run("/sys/block/ram0/queue/write_cache", "write", "back");
        assertEquals("write back\n", run("/sys/block/ram0/queue/write_cache"));
        run("/sys/block/ram0/queue/write_cache", "write through");
        assertEquals("write through\n", run("/sys/block/ram0/queue/write_cache"));
        CommandException e = assertThrows(CommandException.class, () -> run("/sys/block/ram0/size", "1"));
        assertEquals("sysfs: /sys/block/ram0/size: Permission denied", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("/sys/block/ram0/queue/write_cache", "sometimes"));
        assertEquals("sysfs: write error: Invalid argument", e.getMessage().substring(0, "sysfs: write error: Invalid argument".length()));
    }

    @Test
    void listsDevicesAndDirectories() {
        assertEquals("dm-0\nram0\n", run("/sys/block"));
        String all = run("/sys/block/dm-0");
        assertEquals(true, all.contains("dm/name\n") && all.contains("queue/write_cache\n") && all.contains("size\n"), all);
        assertEquals("name\nsuspended\nuuid\n", run("/sys/block/dm-0/dm/"));
    }

    @Test
    void errors() {
        assertEquals("sysfs: /sys/block/ram9/size: No such file or directory",
                assertThrows(CommandException.class, () -> run("/sys/block/ram9/size")).getMessage());
        assertEquals("sysfs: /sys/block/ram0/nothing: No such file or directory",
                assertThrows(CommandException.class, () -> run("/sys/block/ram0/nothing")).getMessage());
        assertEquals("sysfs: /proc/mounts: only paths below /sys/block and /sys/bus/nd/devices are supported",
                assertThrows(CommandException.class, () -> run("/proc/mounts")).getMessage());
        String noPath = assertThrows(CommandException.class, () -> run()).getMessage();
        assertTrue(noPath.startsWith("sysfs: Missing required parameter: '<path>'\nUsage: sysfs [-h] <path> [<value>...]\n"), noPath);
    }

    @Test
    void helpAndValuesThatLookLikeOptions() {
        String help = run("--help");
        assertTrue(help.startsWith("Usage: sysfs [-h] <path> [<value>...]\nRead and write device attributes by their Linux paths:\n"), help);
        assertEquals("sysfs: write error: Invalid argument", assertThrows(CommandException.class,
                () -> run("/sys/block/ram0/queue/write_cache", "-1")).getMessage().substring(0, "sysfs: write error: Invalid argument".length()));
    }

    @Test
    void statAndInflightCountTheBiosOfDmButNotOfBrdAsIn61() {
        org.dmstack.block.Bio write = org.dmstack.block.Bio.write(8, java.lang.foreign.MemorySegment.ofArray(new byte[4096]));
        stack.registry.lookup("dm-0").submit(write);
        write.await();
        org.dmstack.block.DiskStats.Snapshot s = org.dmstack.block.DiskStats.Snapshot.parse(run("/sys/block/dm-0/stat"));
        assertEquals(1, s.writeIos());
        assertEquals(8, s.writeSectors());
        assertEquals(0, s.readIos());
        // brd_submit_bio accounts nothing: ram0's stat stays zero, and its queue, as dm's, has no QUEUE_FLAG_IO_STAT.
        assertEquals("       0        0        0        0        0        0        0        0        0        0        0"
                + "        0        0        0        0        0        0\n", run("/sys/block/ram0/stat"));
        for (String dev : new String[] {"dm-0", "ram0"}) {
            assertEquals("       0        0\n", run("/sys/block/" + dev + "/inflight"));
            assertEquals("0\n", run("/sys/block/" + dev + "/queue/iostats"));
        }
        run("/sys/block/ram0/queue/iostats", "1");
        assertEquals("1\n", run("/sys/block/ram0/queue/iostats"));
        write = org.dmstack.block.Bio.write(8, java.lang.foreign.MemorySegment.ofArray(new byte[4096]));
        stack.registry.lookup("ram0").submit(write);
        write.await();
        assertEquals(0, org.dmstack.block.DiskStats.Snapshot.parse(run("/sys/block/ram0/stat")).writeIos(), "the flag changes nothing for brd");
    }
}
