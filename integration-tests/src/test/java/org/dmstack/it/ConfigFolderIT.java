package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stacks declared by files in the watched config folder, in a real framework. */
class ConfigFolderIT {
    @TempDir Path config;

    private static final String LV0 = "# lv0: the first 2 MiB of ram0\n0 4096 linear ram0 0\n";
    private static final String TOP = "0 2048 linear lv0 0\n";
    private static final String BRD = "rd_nr = 2\nrd_size = 4096\n";

    @Test
    void tablesWrittenBeforeTheirDevicesAndTargetTypeArePendingThenComeUp() throws Exception {
        try (ItStack s = ItStack.start(config)) {
            s.withoutLinear();
            s.write("top.table", TOP);
            s.write("lv0.table", LV0);
            s.awaitTableState("lv0", "pending: line 2: linear: unknown target type");
            s.awaitTableState("top", "pending: line 1: linear: unknown target type");
            assertEquals("No devices found\n", s.run("dmsetup ls"));
            s.ensureLinear();
            s.awaitTableState("lv0", "pending: line 2: linear: Device lookup failed: ram0: No such device");
            s.write("brd.cfg", BRD);
            s.awaitOutput("dmsetup ls", "lv0\t(254:0)\ntop\t(254:1)\n");
            assertEquals("lv0: 0 4096 linear 1:0 0\ntop: 0 2048 linear 254:0 0\n", s.run("dmsetup table"));
            assertEquals("active", s.tableState("top"));
        }
    }

    @Test
    void aFolderWrittenBeforeStartComesUpWhateverOrderTheBundlesStartIn() throws Exception {
        Files.writeString(config.resolve("top.table"), TOP);
        Files.writeString(config.resolve("lv0.table"), LV0);
        Files.writeString(config.resolve("brd.cfg"), BRD);
        Files.writeString(config.resolve("dm.cfg"), "hold_timeout_ms = 5000\n");
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup ls --tree", "top (254:1)\n └─lv0 (254:0)\n    └─ (1:0)\n");
            // Stopping and starting the drivers and the config bundle in the other order changes nothing.
            s.bundle("org.dmstack.config").stop();
            s.bundle("org.dmstack.brd").stop();
            s.bundle("org.dmstack.config").start();
            s.bundle("org.dmstack.brd").start();
            s.awaitOutput("lsblk -a", """
                    NAME    MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                    ram0      1:0    0   4M  0 disk\s
                    └─lv0   254:0    0   2M  0 dm  \s
                      └─top 254:1    0   1M  0 dm  \s
                    ram1      1:1    0   4M  0 disk\s
                    """);
        }
    }

    @Test
    void editingATableReloadsItLiveUnderIoAndABadEditKeepsTheOldTable() throws Exception {
        Files.writeString(config.resolve("brd.cfg"), BRD);
        Files.writeString(config.resolve("lv0.table"), LV0);
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup ls", "lv0\t(254:0)\n");
            Function<String, Object> io = s.inside().create("Workload", new Class<?>[] {Object.class, String.class, Integer.class},
                    s.service("org.dmstack.block.BlockDeviceRegistry"), "dm-0", 3);
            io.apply("start");
            long ops = (Long) io.apply("ops");
            // The same mapping in two lines: a new table, the same data.
            s.write("lv0.table", "0 2048 linear ram0 0\n2048 2048 linear ram0 2048\n");
            s.awaitOutput("dmsetup table lv0", "0 2048 linear 1:0 0\n2048 2048 linear 1:0 2048\n");
            ItStack.await("I/O after the reload", () -> (Long) io.apply("ops") > ops + 500);
            s.write("lv0.table", "0 4096 linear ram0 8000\n");
            s.awaitTableState("lv0", "rejected: resume ioctl on lv0 failed: Invalid argument (line 1: linear: ram0 too small for target: start=8000, len=4096, dev_size=8192) (the old table stays active)");
            assertEquals("0 2048 linear 1:0 0\n2048 2048 linear 1:0 2048\n", s.run("dmsetup table lv0"));
            // No inactive table: dmsetup's _status prints an empty line.
            assertEquals("\n", s.run("dmsetup table --inactive lv0"));
            assertEquals("", io.apply("verify"), "last error: " + io.apply("lastError"));
            assertEquals(0L, io.apply("errors"), String.valueOf(io.apply("lastError")));
            assertEquals("0\n", s.run("sysfs /sys/block/dm-0/dm/suspended"));
        }
    }

    @Test
    void deletingATableRemovesTheDeviceButNotWhileAnotherTableUsesIt() throws Exception {
        Files.writeString(config.resolve("brd.cfg"), BRD);
        Files.writeString(config.resolve("lv0.table"), LV0);
        Files.writeString(config.resolve("top.table"), TOP);
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup ls", "lv0\t(254:0)\ntop\t(254:1)\n");
            s.delete("lv0.table");
            s.awaitTableState("lv0", "removing: remove ioctl on lv0 failed: Device or resource busy (used by top)");
            assertEquals("lv0\t(254:0)\ntop\t(254:1)\n", s.run("dmsetup ls"));
            s.delete("top.table");
            s.awaitOutput("dmsetup ls", "No devices found\n");
            s.delete("brd.cfg");
            // As util-linux's lsblk: no devices, no heading either.
            s.awaitOutput("lsblk", "");
        }
    }

    /**
     * Deleting brd.cfg while a mapped device uses ram0: Linux refuses to remove a disk held open,
     * so ram0 stays, with its data, and I/O through lv0 goes on — past the hold time, which would
     * fail it if the disk had gone. ram0 goes when lv0 lets go of it.
     */
    @Test
    void deletingTheBrdConfigurationKeepsADiskAMappedDeviceHolds() throws Exception {
        Files.writeString(config.resolve("brd.cfg"), BRD);
        Files.writeString(config.resolve("dm.cfg"), "hold_timeout_ms = 1000\n");
        Files.writeString(config.resolve("lv0.table"), LV0);
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup ls", "lv0\t(254:0)\n");
            Function<String, Object> io = s.inside().create("Workload", new Class<?>[] {Object.class, String.class, Integer.class},
                    s.service("org.dmstack.block.BlockDeviceRegistry"), "dm-0", 2);
            io.apply("start");
            s.delete("brd.cfg");
            s.awaitOutput("lsblk -a", """
                    NAME  MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                    ram0    1:0    0   4M  0 disk\s
                    └─lv0 254:0    0   2M  0 dm  \s
                    """);
            long ops = (Long) io.apply("ops");
            Thread.sleep(1500); // longer than the hold time: I/O to a vanished ram0 would have failed by now
            ItStack.await("I/O after the configuration went", () -> (Long) io.apply("ops") > ops + 500);
            io.apply("stop");
            assertEquals(0L, io.apply("errors"), String.valueOf(io.apply("lastError")));
            assertEquals("", io.apply("verify"), "last error: " + io.apply("lastError"));
            s.delete("lv0.table");
            s.awaitOutput("lsblk", "");
        }
    }
}
