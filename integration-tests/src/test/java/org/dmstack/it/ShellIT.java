package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.dmstack.launcher.Dmstack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** Every shell command through Gogo, against a stack of RAM disks, a pmem device and linear tables. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShellIT {
    @TempDir static Path dir;
    private static ItStack s;

    @BeforeAll
    static void start() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("brd.cfg"), "rd_nr = 2\nrd_size = 4096\n");
        Files.writeString(config.resolve("pmem-a.cfg"), "path = " + dir.resolve("pmem0.img") + "\nsize = 8M\ncreate = true\nname = pmem0\n");
        Files.writeString(config.resolve("lv0.table"), "0 4096 linear ram0 0\n4096 4096 linear ram1 0\n");
        s = ItStack.startWithLinear(config);
        s.awaitOutput("dmsetup ls", "lv0\t(254:0)\n");
    }

    @AfterAll
    static void stop() throws Exception {
        s.close();
    }

    @Test
    @Order(1)
    void dmsetupLifecycle() {
        assertTrue(s.run("dmsetup targets").endsWith("zero             v1.1.0\nerror            v1.5.0\n"), s.run("dmsetup targets"));
        assertEquals("", s.run("dmsetup create top --table '0 2048 linear lv0 0'"));
        assertEquals("lv0\t(254:0)\ntop\t(254:1)\n", s.run("dmsetup ls"));
        assertEquals("top (254:1)\n └─lv0 (254:0)\n    ├─ (1:1)\n    └─ (1:0)\n", s.run("dmsetup ls --tree"));
        assertEquals("lv0: 0 4096 linear 1:0 0\nlv0: 4096 4096 linear 1:1 0\ntop: 0 2048 linear 254:0 0\n", s.run("dmsetup table"));
        assertEquals("0 2048 linear \n", s.run("dmsetup status top"));
        assertEquals("2 dependencies\t: (1, 1) (1, 0)\n", s.run("dmsetup deps lv0"));
        assertEquals("""
                Name:              top
                State:             ACTIVE
                Read Ahead:        256
                Tables present:    LIVE
                Open count:        0
                Event number:      0
                Major, minor:      254, 1
                Number of targets: 1

                """, s.run("dmsetup info top"));

        s.run("dmsetup load top --table '0 1024 linear ram1 4096'");
        assertEquals("0 1024 linear 1:1 4096\n", s.run("dmsetup table --inactive top"));
        s.run("dmsetup suspend top");
        assertEquals("1\n", s.run("sysfs /sys/block/dm-1/dm/suspended"));
        s.run("dmsetup resume top");
        assertEquals("0 1024 linear 1:1 4096\n", s.run("dmsetup table top"));
        assertEquals("0\n", s.run("sysfs /sys/block/dm-1/dm/suspended"));
        s.run("dmsetup rename top upper");
        assertEquals("upper\n", s.run("sysfs /sys/block/dm-1/dm/name"));

        s.run("dmsetup create x --table '0 100 linear lv0 0'");
        assertEquals("device-mapper: remove ioctl on lv0  failed: Device or resource busy (used by x)\nCommand failed.", s.fail("dmsetup remove lv0"));
        assertEquals("device-mapper: message ioctl on upper  failed: Invalid argument (Target type does not support messages)\nCommand failed.",
                s.fail("dmsetup message upper 0 hello"));
        assertEquals("device-mapper: reload ioctl on bad  failed: No such device (line 1: linear: Device lookup failed: ram7: No such device)\nCommand failed.", s.fail("dmsetup create bad --table '0 8 linear ram7 0'"));
        s.run("dmsetup remove x; dmsetup remove upper");
        assertEquals("lv0\t(254:0)\n", s.run("dmsetup ls"));
        assertTrue(s.fail("dmsetup frobnicate").startsWith("Unknown command.\nUsage:\n\ndmsetup\n"));
    }

    @Test
    @Order(2)
    void lsblkShowsTheTree() {
        assertEquals("""
                NAME  MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                ram0    1:0    0   4M  0 disk\s
                └─lv0 254:0    0   4M  0 dm  \s
                ram1    1:1    0   4M  0 disk\s
                └─lv0 254:0    0   4M  0 dm  \s
                pmem0 259:0    0   8M  0 disk\s
                """, s.run("lsblk -a"));
        assertEquals("NAME MAJ:MIN RM    SIZE RO TYPE MOUNTPOINTS\nlv0  254:0    0 4194304  0 dm   \n", s.run("lsblk -b /dev/mapper/lv0"));
        assertEquals("lsblk: ram9: not a block device", s.fail("lsblk ram9"));
        assertEquals(32, s.dmstack.execute("lsblk ram9").status(), "lsblk's status when no device named exists");
    }

    @Test
    @Order(3)
    void sysfsReadsAndWritesLinuxPaths() {
        assertEquals("16384\n", s.run("sysfs /sys/block/pmem0/size"));
        assertEquals("259:0\n", s.run("sysfs /sys/block/pmem0/dev"));
        assertEquals("write back\n", s.run("sysfs /sys/block/pmem0/queue/write_cache"));
        assertEquals("1\n", s.run("sysfs /sys/block/pmem0/queue/dax"));
        assertEquals("1\n", s.run("sysfs /sys/block/pmem0/dax/write_cache"));
        s.run("sysfs /sys/block/pmem0/dax/write_cache 0");
        assertEquals("0\n", s.run("sysfs /sys/block/pmem0/dax/write_cache"));
        s.run("sysfs /sys/block/pmem0/dax/write_cache 1");
        assertEquals("", s.run("sysfs /sys/block/pmem0/badblocks"));
        assertEquals("write through\n", s.run("sysfs /sys/block/ram0/queue/write_cache"));
        assertEquals("512\n4096\n4096\n0\n", s.run("sysfs /sys/block/dm-0/queue/logical_block_size; sysfs /sys/block/dm-0/queue/physical_block_size; "
                + "sysfs /sys/block/dm-0/queue/minimum_io_size; sysfs /sys/block/dm-0/queue/optimal_io_size"));
        assertEquals("lv0\n", s.run("sysfs /sys/block/dm-0/dm/name"));
        assertEquals("dm-0\npmem0\nram0\nram1\n", s.run("sysfs /sys/block"));
        assertEquals("sysfs: /sys/block/pmem0/size: Permission denied", s.fail("sysfs /sys/block/pmem0/size 1"));
        assertTrue(s.fail("sysfs /sys/block/ram0/queue/write_cache maybe").startsWith("sysfs: write error: Invalid argument"));
    }

    @Test
    @Order(4)
    void ddCopiesBetweenFilesAndDevices() throws Exception {
        Path in = dir.resolve("in.bin"), out = dir.resolve("out.bin");
        Dmstack.Result r = s.dmstack.execute("dd if=/dev/urandom of=" + in + " bs=64k count=16");
        assertTrue(r.ok(), r.error());
        assertTrue(r.err().startsWith("16+0 records in\n16+0 records out\n1048576 bytes (1.0 MB, 1.0 MiB) copied, "), r.err());
        r = s.dmstack.execute("dd if=" + in + " of=/dev/mapper/lv0 bs=64k seek=32 conv=fsync");
        assertTrue(r.ok(), r.error());
        r = s.dmstack.execute("dd if=/dev/ram1 of=" + out + " bs=64k count=16 status=none");
        assertTrue(r.ok(), r.error());
        assertEquals("", r.err());
        // lv0's second half is ram1: what went to lv0 at 2 MiB is on ram1 from 0 on.
        byte[] expected = Files.readAllBytes(in);
        byte[] got = Files.readAllBytes(out);
        assertArrayEquals(expected, got);
        r = s.dmstack.execute("dd if=/dev/zero of=/dev/pmem0 bs=1M count=9");
        // The error is reported once, with dd's closing lines after it, as GNU dd prints them.
        assertTrue(r.error().startsWith("dd: error writing '/dev/pmem0': No space left on device\n9+0 records in\n8+0 records out\n"
                + "8388608 bytes (8.4 MB, 8.0 MiB) copied, "), r.error());
        assertEquals("", r.err());
        assertEquals("dd: unrecognized operand 'foo'\nTry 'dd --help' for more information.", s.fail("dd if=/dev/zero of=/dev/null foo"));
    }

    @Test
    @Order(5)
    void everyCommandHasHelpAndADescription() {
        for (String command : List.of("dmsetup", "lsblk", "sysfs", "dd", "iostat", "ndctl")) {
            Dmstack.Result r = s.dmstack.execute(command + " --help");
            // As the real tools: sysstat's iostat has no --help (its usage, status 1); ndctl prints " usage: ndctl ...".
            if (command.equals("iostat")) {
                assertTrue(!r.ok() && r.error().startsWith("Usage: iostat [ options ]"), "iostat --help: " + r.error());
            } else {
                assertTrue(r.ok(), command + " --help failed: " + r.error());
                assertTrue(r.out().startsWith(command.equals("ndctl") ? "\n usage: ndctl" : "Usage:"), command + " --help printed\n" + r.out());
            }
            String help = s.run("help " + command);
            assertTrue(help.contains(command + " - ") && help.contains("scope: dmstack"), "help " + command + " printed\n" + help);
        }
        assertTrue(s.run("help dmsetup").contains("device-mapper: create, load, suspend, resume, remove"));
        assertTrue(s.run("lsblk -J -o NAME,TYPE").startsWith("{\n   \"blockdevices\": [\n"));
        assertTrue(s.run("dmsetup info -c -o name,attr --noheadings").startsWith("lv0:L--w\n"));
    }

    @Test
    @Order(6)
    void statisticsIostatAndMBeans() throws Exception {
        s.run("dd if=/dev/zero of=/dev/mapper/lv0 bs=4k count=2 oflag=direct");
        String[] stat = s.run("sysfs /sys/block/dm-0/stat").trim().split("\\s+");
        assertEquals(17, stat.length);
        assertTrue(Long.parseLong(stat[4]) >= 2, String.join(" ", stat));
        assertEquals("       0        0\n", s.run("sysfs /sys/block/dm-0/inflight"));
        String iostat = s.run("iostat -d dm-0 ram1");
        assertTrue(iostat.contains("\n\nDevice             tps    kB_read/s    kB_wrtn/s    kB_dscd/s    kB_read    kB_wrtn    kB_dscd\ndm-0 "), iostat);
        assertTrue(iostat.contains("\nram1 "), iostat);
        assertEquals(s.run("sysfs /sys/block/dm-0/size"), s.run("blockdev --getsz /dev/mapper/lv0"));
        String json = s.run("iostat -dxN -o JSON dm-0");
        assertTrue(json.startsWith("{\"sysstat\": {\n") && json.contains("{\"disk_device\": \"lv0\", \"r/s\": "), json);
        assertEquals("0\n", s.run("dmsetup message lv0 0 @stats_create - /2"));
        assertEquals("0: 0+8192 4096 - -\n", s.run("dmsetup message lv0 0 @stats_list"));
        s.run("dmsetup message lv0 0 @stats_delete 0");

        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName dm0 = new javax.management.ObjectName("org.dmstack:type=BlockDevice,name=dm-0");
        assertEquals("lv0", server.getAttribute(dm0, "DmName"));
        assertEquals(Long.parseLong(s.run("sysfs /sys/block/dm-0/stat").trim().split("\\s+")[4]), server.getAttribute(dm0, "WriteIos"));
        javax.management.ObjectName pmem0 = new javax.management.ObjectName("org.dmstack:type=BlockDevice,name=pmem0");
        assertEquals(true, server.getAttribute(pmem0, "Dax"));
        assertTrue((Long) server.getAttribute(pmem0, "DaxCopyCalls") >= 0);
        s.run("dmsetup create st --table '0 8 linear ram0 0'");
        javax.management.ObjectName dm1 = new javax.management.ObjectName("org.dmstack:type=BlockDevice,name=dm-1");
        assertTrue(server.isRegistered(dm1));
        s.run("dmsetup remove st");
        assertTrue(!server.isRegistered(dm1));
    }
}
