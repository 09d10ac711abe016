package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DmsetupTest {
    @TempDir Path dir;
    private Stack stack;
    private Dmsetup dmsetup;

    @BeforeEach
    void setUp() {
        stack = new Stack();
        stack.ram(0, 8 << 20);
        stack.ram(1, 8 << 20);
        dmsetup = new Dmsetup(stack.dm, dir);
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    private String run(String line) {
        return Stack.capture((out, err) -> dmsetup.run(Stack.words(line), out));
    }

    private void createTwo() {
        stack.dm.create("lv0", "0 4096 linear ram0 0\n4096 4096 linear ram1 2048");
        stack.dm.create("top", "0 8192 linear lv0 0");
    }

    @Test
    void createWithTableThenListAndShow() {
        dmsetup.run(List.of("create", "lv0", "--table", "0 4096 linear ram0 0\n4096 4096 linear /dev/ram1 2048"), System.out);
        assertEquals("lv0\t(254:0)\n", run("ls"));
        assertEquals("0 4096 linear 1:0 0\n4096 4096 linear 1:1 2048\n", run("table lv0"));
        assertEquals("0 4096 linear \n4096 4096 linear \n", run("status lv0"));
        assertEquals("""
                Name:              lv0
                State:             ACTIVE
                Read Ahead:        256
                Tables present:    LIVE
                Open count:        0
                Event number:      0
                Major, minor:      254, 0
                Number of targets: 2

                """, run("info lv0"));
        assertEquals("2 dependencies\t: (1, 1) (1, 0)\n", run("deps lv0"));
    }

    @Test
    void createFromTableFile() throws Exception {
        Files.writeString(dir.resolve("lv0.table"), "# a comment\n0 2048 linear ram0 0\n");
        run("create lv0 lv0.table");
        assertEquals("0 2048 linear 1:0 0\n", run("table lv0"));
    }

    /** A file that is not text, or not a table, is refused without being echoed back. */
    @Test
    void aFileThatIsNotATableIsRefusedWithoutItsContents() throws Exception {
        Files.write(dir.resolve("binary"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, (byte) 0xff, (byte) 0xfe});
        CommandException e = assertThrows(CommandException.class, () -> run("create bin binary"));
        assertEquals("dmsetup create: " + dir.resolve("binary") + " is not a table file: it is not text", e.getMessage());
        Files.writeString(dir.resolve("shadow"), "root:$y$j9T$SECRETSALTSECRETSALT$HASHHASHHASH:19000:0:99999:7:::\n");
        e = assertThrows(CommandException.class, () -> run("create sh shadow"));
        assertEquals("Invalid format on line 1 of table shadow.\nCommand failed.", e.getMessage());
        assertEquals("No devices found\n", run("ls"));
    }

    @Test
    void withoutANameEveryDeviceIsShownPrefixed() {
        createTwo();
        assertEquals("lv0: 0 4096 linear 1:0 0\nlv0: 4096 4096 linear 1:1 2048\ntop: 0 8192 linear 254:0 0\n", run("table"));
        assertEquals("lv0: 2 dependencies\t: (1, 1) (1, 0)\ntop: 1 dependencies\t: (254, 0)\n", run("deps"));
        assertEquals("lv0\t(254:0)\ntop\t(254:1)\n", run("ls"));
        assertEquals("top (254:1)\n └─lv0 (254:0)\n    ├─ (1:1)\n    └─ (1:0)\n", run("ls --tree"));
    }

    @Test
    void lsTreeInfoAndTargetsAsDmsetupPrintsThem() {
        stack.dm.create("base", "0 1024 linear ram0 0\n1024 1024 linear ram1 0");
        stack.dm.create("top", "0 2048 linear base 0");
        stack.dm.create("other", "u-1", "0 100 linear ram1 100");
        stack.dm.load("top", "0 8 zero");
        stack.dm.suspend("top");
        assertEquals("base\t(254:0)\nother\t(254:2)\ntop\t(254:1)\n", run("ls"));
        assertEquals("""
                other (254:2)
                 └─ (1:1)
                top (254:1)
                 └─base (254:0)
                    ├─ (1:1)
                    └─ (1:0)
                """, run("ls --tree"));
        assertEquals("""
                Name:              base
                State:             ACTIVE
                Read Ahead:        256
                Tables present:    LIVE
                Open count:        1
                Event number:      0
                Major, minor:      254, 0
                Number of targets: 2

                Name:              other
                State:             ACTIVE
                Read Ahead:        256
                Tables present:    LIVE
                Open count:        0
                Event number:      0
                Major, minor:      254, 2
                Number of targets: 1
                UUID: u-1

                Name:              top
                State:             SUSPENDED
                Read Ahead:        256
                Tables present:    LIVE & INACTIVE
                Open count:        0
                Event number:      0
                Major, minor:      254, 1
                Number of targets: 1

                """, run("info"));
        assertEquals("2 dependencies\t: (1, 1) (1, 0)\n", run("deps base"));
        assertEquals("1 dependencies\t: (254, 0)\n", run("deps top"));
        assertEquals("linear           v1.4.0\nzero             v1.1.0\nerror            v1.5.0\n", run("targets"));
    }

    @Test
    void noDevices() {
        assertEquals("No devices found\n", run("ls"));
        assertEquals("No devices found\n", run("table"));
        assertEquals("No devices found\n", run("info"));
    }

    @Test
    void loadIntoInactiveSlotThenResume() throws Exception {
        createTwo();
        Files.writeString(dir.resolve("new.table"), "0 8192 linear ram1 0\n");
        run("load lv0 new.table");
        assertEquals("0 8192 linear 1:1 0\n", run("table --inactive lv0"));
        assertTrue(run("info lv0").contains("Tables present:    LIVE & INACTIVE\n"));
        run("suspend lv0");
        assertTrue(run("info lv0").contains("State:             SUSPENDED\n"));
        run("resume lv0");
        assertEquals("0 8192 linear 1:1 0\n", run("table lv0"));
        assertEquals("\n", run("table --inactive lv0"));
        run("clear top");
    }

    @Test
    void removeIsRefusedWhileUsedAndRenameWorks() {
        createTwo();
        CommandException e = assertThrows(CommandException.class, () -> run("remove lv0"));
        assertEquals("device-mapper: remove ioctl on lv0  failed: Device or resource busy (used by top)\nCommand failed.", e.getMessage());
        run("rename top upper");
        run("remove upper");
        run("remove lv0");
        assertEquals("No devices found\n", run("ls"));
    }

    @Test
    void targetsNewestFirst() {
        assertEquals("linear           v1.4.0\nzero             v1.1.0\nerror            v1.5.0\n", run("targets"));
    }

    @Test
    void aBadTableCreatesNothing() {
        CommandException e = assertThrows(CommandException.class, () -> run("create bad bad.table"));
        assertTrue(e.getMessage().startsWith("dmsetup create: cannot read table file"), e.getMessage());
        e = assertThrows(CommandException.class,
                () -> dmsetup.run(List.of("create", "bad", "--table", "0 100 linear ram9 0"), System.out));
        assertEquals("device-mapper: reload ioctl on bad  failed: No such device (line 1: linear: Device lookup failed: ram9: No such device)\n"
                + "Command failed.", e.getMessage());
        e = assertThrows(CommandException.class,
                () -> dmsetup.run(List.of("create", "bad", "--table", "0 100 striped 2 8 ram0 0 ram1 0"), System.out));
        assertEquals("device-mapper: reload ioctl on bad  failed: Invalid argument (line 1: striped: unknown target type)\nCommand failed.",
                e.getMessage());
        assertEquals("No devices found\n", run("ls"));
    }

    /**
     * Tables refused as dmsetup 1.02.185 over Linux 6.1 shows them: dmsetup's own "Invalid format"
     * (_parse_line, every line read before any ioctl), and the reload ioctl's errno
     * (dm_get_device: ENODEV for a path, ENXIO for a major:minor with no device; EINVAL otherwise),
     * the kernel log's line in parentheses. Nothing is created or changed.
     */
    @Test
    void refusedTablesInDmsetupsWords() throws Exception {
        createTwo();
        String before = run("table lv0");
        for (String[] c : List.of(
                new String[] {"0 100", "Invalid format on line 1 of table .\nCommand failed."},
                new String[] {"0 100 linear", "device-mapper: reload ioctl on %s  failed: Invalid argument (line 1: linear: Invalid argument count)\nCommand failed."},
                new String[] {"0 x linear ram0 0", "Invalid format on line 1 of table .\nCommand failed."},
                new String[] {"0 0 zero\n8 y zero", "Invalid format on line 2 of table .\nCommand failed."},
                new String[] {"0 0 zero", "device-mapper: reload ioctl on %s  failed: Invalid argument (line 1: zero: zero-length target)\nCommand failed."},
                new String[] {"0 8 linear 7:99 0",
                        "device-mapper: reload ioctl on %s  failed: No such device or address (line 1: linear: Device lookup failed: 7:99: No such device)\n"
                                + "Command failed."},
                new String[] {"0 8 linear /dev/nosuch 0",
                        "device-mapper: reload ioctl on %s  failed: No such device (line 1: linear: Device lookup failed: /dev/nosuch: No such device)\n"
                                + "Command failed."},
                new String[] {"0 8 zero\n16 8 zero",
                        "device-mapper: reload ioctl on %s  failed: Invalid argument (line 2: zero: Gap in table (sectors 8 to 15 are not mapped))\n"
                                + "Command failed."})) {
            for (String command : List.of("create", "load")) {
                String name = command.equals("create") ? "new" : "lv0";
                CommandException e = assertThrows(CommandException.class, () -> dmsetup.run(List.of(command, name, "--table", c[0]), System.out), c[0]);
                assertEquals(c[1].formatted(name), e.getMessage(), command + " " + c[0]);
                assertEquals(1, e.exitStatus());
            }
        }
        Files.writeString(dir.resolve("t"), "0 8 zero\n\nnot a table\n");
        assertEquals("Invalid format on line 3 of table t.\nCommand failed.", assertThrows(CommandException.class, () -> run("load lv0 t")).getMessage());
        assertEquals("device-mapper: reload ioctl on lv0  failed: Invalid argument (no targets specified)\nCommand failed.",
                assertThrows(CommandException.class, () -> dmsetup.run(List.of("load", "lv0", "--table", ""), System.out)).getMessage());
        assertEquals("Name \"a/b\" invalid. It contains \"/\".\nCommand failed.", assertThrows(CommandException.class, () -> run("create a/b --notable")).getMessage());
        String longName = "n".repeat(128);
        assertEquals("Name \"" + longName + "\" too long\nCommand failed.", assertThrows(CommandException.class, () -> run("create " + longName + " --notable")).getMessage());
        assertEquals("lv0\t(254:0)\ntop\t(254:1)\n", run("ls"));
        assertEquals(before, run("table lv0"));
        assertEquals("\n", run("table --inactive lv0"), "no inactive table: dmsetup prints an empty line");
    }

    @Test
    void messageAndErrors() {
        createTwo();
        CommandException e = assertThrows(CommandException.class, () -> run("message lv0 0 hello"));
        assertEquals("device-mapper: message ioctl on lv0  failed: Invalid argument (Target type does not support messages)\nCommand failed.",
                e.getMessage());
        e = assertThrows(CommandException.class, () -> run("frobnicate"));
        assertEquals("Unknown command.\n" + Dmsetup.USAGE.stripTrailing(), e.getMessage());
        e = assertThrows(CommandException.class, () -> run("create lv9"));
        assertEquals("dmsetup create: give the table with --table <table> or a <table_file>", e.getMessage());
    }

    /**
     * A device that does not exist, as dmsetup 1.02.185 says it (libdm-iface.c's _do_dm_ioctl:
     * ENXIO is "not there" for info, status and mknodes; dmsetup.c's _display_info and _status;
     * libdm-common.c's dm_task_set_name for a path), all with "Command failed." and status 1.
     */
    @Test
    void aDeviceThatDoesNotExistInDmsetupsWords() {
        createTwo();
        String ioctl = "device-mapper: %s ioctl on nosuch  failed: No such device or address\nCommand failed.";
        for (String[] c : List.of(
                new String[] {"info nosuch", "Device does not exist.\nCommand failed."},
                new String[] {"info -c nosuch", "Device does not exist.\nCommand failed."},
                new String[] {"status nosuch", "Device does not exist.\nCommand failed."},
                new String[] {"status --target linear nosuch", "Device does not exist.\nCommand failed."},
                new String[] {"table nosuch", ioctl.formatted("table")},
                new String[] {"table --inactive nosuch", ioctl.formatted("table")},
                new String[] {"deps nosuch", ioctl.formatted("deps")},
                new String[] {"suspend nosuch", ioctl.formatted("suspend")},
                new String[] {"resume nosuch", ioctl.formatted("resume")},
                new String[] {"clear nosuch", ioctl.formatted("clear")},
                new String[] {"remove nosuch", ioctl.formatted("remove")},
                new String[] {"remove --deferred nosuch", ioctl.formatted("remove")},
                new String[] {"remove -f nosuch", "device-mapper: table ioctl on nosuch  failed: No such device or address\n"
                        + "device-mapper: reload ioctl on nosuch  failed: No such device or address\n" + ioctl.formatted("remove")},
                new String[] {"rename nosuch other", ioctl.formatted("rename")},
                new String[] {"rename nosuch --setuuid u-1", ioctl.formatted("rename")},
                new String[] {"message nosuch 0 hello", ioctl.formatted("message")},
                new String[] {"wait nosuch", ioctl.formatted("waitevent")},
                new String[] {"info /dev/mapper/nosuch", "Device /dev/mapper/nosuch not found\nCommand failed."},
                new String[] {"remove /dev/dm-9", "Device /dev/dm-9 not found\nCommand failed."})) {
            CommandException e = assertThrows(CommandException.class, () -> run(c[0]), c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
            assertEquals(1, e.exitStatus(), c[0]);
        }
        for (String load : List.of("load", "reload")) {
            CommandException e = assertThrows(CommandException.class, () -> dmsetup.run(List.of(load, "nosuch", "--table", "0 8 zero"), System.out));
            assertEquals(ioctl.formatted("reload"), e.getMessage(), load);
        }
        assertEquals("", run("mknodes nosuch"), "libdm's mknodes removes a stale node of a device that is gone, and succeeds");
        assertEquals("lv0\t(254:0)\ntop\t(254:1)\n", run("ls"), "nothing changed");
        assertTrue(run("info /dev/dm-1").startsWith("Name:              top\n"), "a path to the device is the device, as libdm resolves it");
    }

    /** dmsetup 1.02.185's words for command lines it cannot take (all with exit status 1). */
    @Test
    void commandLinesDmsetupRefuses() {
        createTwo();
        String usage = Dmsetup.USAGE.stripTrailing();
        for (String[] c : List.of(
                new String[] {"info --frob lv0", "dmsetup: unrecognized option '--frob'\nCouldn't process command line."},
                new String[] {"--frob", "dmsetup: unrecognized option '--frob'\nCouldn't process command line."},
                new String[] {"info -q", "dmsetup: invalid option -- 'q'\nCouldn't process command line."},
                new String[] {"status --target", "dmsetup: option '--target' requires an argument\nCouldn't process command line."},
                new String[] {"info --noflush lv0", "dmsetup: option '--noflush' is not supported\nCouldn't process command line."},
                new String[] {"remove --retry lv0", "dmsetup: option '--retry' is not supported\nCouldn't process command line."},
                new String[] {"info lv0 top", "Incorrect number of arguments.\n" + usage},
                new String[] {"deps -o x lv0", "Option not recognised: x.\nCouldn't process command line."},
                new String[] {"message lv0", "Incorrect number of arguments.\n" + usage},
                new String[] {"create a b c", "Incorrect number of arguments.\n" + usage},
                new String[] {"rename lv0 a b", "Incorrect number of arguments.\n" + usage},
                new String[] {"create", "Please provide a name for the new device.\nCommand failed."},
                new String[] {"remove", "Please specify device.\nCommand failed."},
                new String[] {"suspend", "Please specify device.\nCommand failed."},
                new String[] {"load", "Please specify device.\nCommand failed."},
                new String[] {"info -o name", "dmsetup info: -o, --noheadings and --separator need -c"})) {
            CommandException e = assertThrows(CommandException.class, () -> run(c[0]), c[0]);
            assertEquals(c[1], e.getMessage(), c[0]);
            assertEquals(1, e.exitStatus(), c[0]);
        }
        CommandException e = assertThrows(CommandException.class, () -> dmsetup.run(List.of(), System.out));
        assertEquals(usage, e.getMessage(), "dmsetup alone prints its usage and fails");
    }

    @Test
    void severalDevicesTargetFiltersAndDeviceNames() {
        createTwo();
        stack.dm.create("z", "0 8 zero");
        assertEquals("0 8 zero \n", run("table z"));
        assertEquals("z: 0 8 zero \n", run("table --target zero"));
        assertEquals("lv0: 0 4096 linear 1:0 0\nlv0: 4096 4096 linear 1:1 2048\ntop: 0 8192 linear 254:0 0\n", run("table --target linear"));
        assertEquals("", run("status --target striped lv0"));
        assertEquals("lv0\t(dm-0)\ntop\t(dm-1)\nz\t(dm-2)\n", run("ls -o blkdevname"));
        assertEquals("2 dependencies\t: (ram1) (ram0)\n", run("deps -o devname lv0"));
        assertEquals("1 dependencies\t: (lv0)\n", run("deps -o devname top"));
        assertEquals("1 dependencies\t: (dm-0)\n", run("deps -o blkdevname top"));
        assertEquals("1 dependencies\t: (254, 0)\n", run("deps -o devno top"));
        assertEquals("", run("mknodes lv0"));
        assertEquals("", run("suspend --noflush --nolockfs top"));
        run("resume top");
    }

    @Test
    void versionSaysTheLibraryAndTheInterface() {
        // dmsetup 1.02.185's library line; the driver line is Linux 6.1's DM_VERSION (4.47.0).
        assertEquals("Library version:   1.02.185 (2022-05-18)\nDriver version:    4.47.0\n", run("version"));
    }

    @Test
    void helpIsDmsetupsUsageWhereverItStands() {
        String help = run("--help");
        assertTrue(help.startsWith("Usage:\n\ndmsetup\n        [-h|--help]"), help);
        for (String command : List.of("create", "load", "clear", "suspend", "resume", "remove", "rename", "message", "ls", "info", "deps",
                "status", "table", "targets", "version", "mknodes")) {
            assertEquals(help, run(command + " --help"));
            assertTrue(help.contains("\n\t" + command + " ") || help.contains("\n\t" + command + "\n"), command + " is listed in\n" + help);
        }
        assertEquals(help, run("info -h lv0"));
        assertEquals(help, run("help"));
    }

    @Test
    void infoInColumnsAsDmsetupReportsThem() {
        createTwo();
        stack.dm.create("with-uuid", "LVM-0123", "0 8 zero");
        stack.dm.load("with-uuid", "0 16 zero");
        assertEquals("""
                Name             Maj Min Stat Open Targ Event  UUID                           \s
                lv0              254   0 L--w    1    2      0                                \s
                top              254   1 L--w    0    1      0                                \s
                with-uuid        254   2 LI-w    0    1      0 LVM-0123                       \s
                """, run("info -c"));
        assertEquals("""
                Name             Maj Min Stat Open Targ Event  UUID                           \s
                top              254   1 L--w    0    1      0                                \s
                """, run("info -C top"));
        assertEquals("lv0:254:0:L--w:1:2:0:\ntop:254:1:L--w:0:1:0:\nwith-uuid:254:2:LI-w:0:1:0:LVM-0123\n", run("info -c --noheadings"));
        assertEquals("Name,Tables,DevNosUsed,BlkDevNamesUsed\nlv0,Live,1:1,1:0,ram1,ram0\ntop,Live,254:0,dm-0\nwith-uuid,Both,,\n",
                run("info --columns -o name,tables_loaded,devnos_used,blkdevs_used --separator ,"));
        assertEquals("""
                Name             #Refs RefNames DevNamesUsed     Suspended BlkDevName     \s
                lv0                  1 top                       Active    dm-0           \s
                top                  0          lv0              Active    dm-1           \s
                with-uuid            0                           Active    dm-2           \s
                """, run("info -c -o name,device_ref_count,names_using_dev,devs_used,suspended,blkdevname"));
        assertEquals("""
                Name             Maj Min Stat Open Targ Event  UUID                             DevNo
                lv0              254   0 L--w    1    2      0                                  254:0
                top              254   1 L--w    0    1      0                                  254:1
                with-uuid        254   2 LI-w    0    1      0 LVM-0123                         254:2
                """, run("info -c -o +devno"));
        CommandException e = assertThrows(CommandException.class, () -> run("info -c -o name,frobs"));
        assertTrue(e.getMessage().startsWith("Fields dmstack reports: name, uuid, "), e.getMessage());
        assertTrue(e.getMessage().endsWith("\n \nUnrecognised field: frobs"), "the last line, as dmsetup 1.02.185's: " + e.getMessage());
    }

    @Test
    void infoInColumnsWithoutDevices() {
        assertEquals("No devices found\n", run("info -c"));
    }

    @Test
    void messageWordsMayLookLikeOptions() {
        createTwo();
        CommandException e = assertThrows(CommandException.class, () -> run("message lv0 0 -x --y"));
        assertEquals("device-mapper: message ioctl on lv0  failed: Invalid argument (Target type does not support messages)\nCommand failed.",
                e.getMessage());
    }

    /**
     * A device through every state, as dmsetup 1.02.185 prints what 6.1 returns: _display_info_long,
     * _status (one empty line for a device without the table asked for) and the attr column
     * (_dm_info_status_disp: L, I, s, then r or w).
     */
    @Test
    void everyStateAsDmsetupPrintsIt() {
        run("create bare --notable");
        assertEquals("\n", run("table bare"));
        assertEquals("\n", run("status bare"));
        assertEquals("\n", run("table --inactive bare"));
        assertEquals("bare:---w:0:0:0:\n", run("info -c --noheadings -o name,attr,open,segments,events,uuid bare"));
        run("suspend bare");
        assertEquals(info("bare", "SUSPENDED", "None", 0, 0, ""), run("info bare"));
        CommandException e = assertThrows(CommandException.class, () -> run("resume bare"));
        assertEquals("device-mapper: resume ioctl on bare  failed: Invalid argument (no table to resume: load one first)\nCommand failed.",
                e.getMessage());
        dmsetup.run(List.of("load", "bare", "--table", "0 100 zero"), System.out);
        assertEquals(info("bare", "SUSPENDED", "INACTIVE", 0, 0, ""), run("info bare"));
        assertEquals("bare:-Isw:0:0:0:\n", run("info -c --noheadings -o name,attr,open,segments,events,uuid bare"));
        assertEquals("\n", run("status bare"));
        assertEquals("0 100 zero \n", run("status --inactive bare"));
        run("resume bare");
        assertEquals("bare:L--w:0:1:0:\n", run("info -c --noheadings -o name,attr,open,segments,events,uuid bare"));
        // dm_hash_rename raises the live table's event, for a new uuid as for a new name.
        run("rename bare --setuuid U-1");
        assertEquals(info("bare", "ACTIVE", "LIVE", 1, 1, "UUID: U-1\n"), run("info bare"));
        e = assertThrows(CommandException.class, () -> run("rename bare --setuuid U-2"));
        assertEquals("device-mapper: rename ioctl on bare  failed: Invalid argument "
                + "(Unable to change uuid of mapped device bare to U-2 because uuid is already set to U-1)\nCommand failed.", e.getMessage());
        run("rename bare named");
        assertEquals("named:L--w:0:1:2:U-1\n", run("info -c --noheadings -o name,attr,open,segments,events,uuid"));
        // dev_wait returns at once when the event number is not the one given (dmsetup gives 0 without one).
        assertEquals("", run("wait named"));
        assertEquals("", run("wait named 7"));
    }

    /**
     * dmsetup remove --force loads an error table first (_error_device), then removes; --deferred
     * marks a busy device (dev_remove's DM_DEFERRED_REMOVE), shown in its State line.
     */
    @Test
    void removeForcedAndDeferred() {
        createTwo();
        CommandException e = assertThrows(CommandException.class, () -> run("remove --force lv0"));
        assertEquals("device-mapper: remove ioctl on lv0  failed: Device or resource busy (used by top)\nCommand failed.", e.getMessage());
        assertEquals("0 8192 error \n", run("table lv0"));
        run("remove --deferred lv0");
        assertTrue(run("info lv0").contains("State:             ACTIVE (DEFERRED REMOVE)\n"));
        run("remove top");
        assertEquals("No devices found\n", run("ls"));
        createTwo();
        run("remove_all");
        assertEquals("No devices found\n", run("ls"));
    }

    /** A table loaded with -r: dmsetup shows the READ-ONLY state, the attr's r and the readonly field (DM_READONLY_FLAG). */
    @Test
    void aReadOnlyDevice() {
        dmsetup.run(List.of("create", "ro", "-r", "--table", "0 100 zero"), System.out);
        assertEquals(info("ro", "ACTIVE (READ-ONLY)", "LIVE", 1, 0, ""), run("info ro"));
        assertEquals("ro:L--r:Read-only\n", run("info -c --noheadings -o name,attr,readonly"));
        dmsetup.run(List.of("load", "ro", "--table", "0 100 zero"), System.out);
        run("resume ro");
        assertEquals("ro:L--w:Writeable\n", run("info -c --noheadings -o name,attr,readonly"));
        dmsetup.run(List.of("load", "ro", "--readonly", "--table", "0 100 zero"), System.out);
        // Not in use: removed at once; dm's lowest free minor (idr_alloc) is 0 again.
        run("remove --deferred ro");
        assertEquals("No devices found\n", run("ls"));
        dmsetup.run(List.of("create", "ro2", "--readonly", "--table", "0 100 zero"), System.out);
        dmsetup.run(List.of("create", "top", "--table", "0 100 linear ro2 0"), System.out);
        run("remove --deferred ro2");
        assertEquals(info("ro2", "ACTIVE (READ-ONLY) (DEFERRED REMOVE)", "LIVE", 1, 0, "").replace("Open count:        0", "Open count:        1"), run("info ro2"));
    }

    /** ls and deps -o (dmsetup's _display_name and _deps through dm_device_get_name), table and status --target. */
    @Test
    void devicesByNameAndTablesByTargetType() {
        createTwo();
        assertEquals("lv0\t(dm-0)\ntop\t(dm-1)\n", run("ls -o blkdevname"));
        assertEquals("lv0\t(lv0)\ntop\t(top)\n", run("ls -o devname"));
        assertEquals("lv0\t(254:0)\ntop\t(254:1)\n", run("ls -o devno"));
        assertEquals("1 dependencies\t: (lv0)\n", run("deps -o devname top"));
        assertEquals("2 dependencies\t: (ram1) (ram0)\n", run("deps -o devname lv0"));
        assertEquals("lv0: 2 dependencies\t: (ram1) (ram0)\ntop: 1 dependencies\t: (dm-0)\n", run("deps -o blkdevname"));
        assertEquals("lv0: 0 4096 linear 1:0 0\nlv0: 4096 4096 linear 1:1 2048\ntop: 0 8192 linear 254:0 0\n", run("table --target linear"));
        assertEquals("", run("table --target zero lv0"));
        assertEquals("0 8192 linear \n", run("status --target linear top"));
        CommandException e = assertThrows(CommandException.class, () -> run("ls -o uuid"));
        assertEquals("Option not recognised: uuid.\nCouldn't process command line.", e.getMessage());
    }

    private static String info(String name, String state, String tables, int targets, int event, String uuidLine) {
        return "Name:              " + name + "\nState:             " + state + "\nRead Ahead:        256\nTables present:    " + tables
                + "\nOpen count:        0\nEvent number:      " + event + "\nMajor, minor:      254, 0\nNumber of targets: " + targets + "\n"
                + uuidLine + "\n";
    }

    @Test
    void createNotableThenLoad() {
        run("create empty --notable");
        assertTrue(run("info empty").contains("Tables present:    None\n"));
        assertEquals("0 dependencies\t:\n", run("deps empty"));
        dmsetup.run(List.of("load", "empty", "--table", "0 100 zero"), System.out);
        run("resume empty");
        assertEquals("0 100 zero \n", run("table empty"));
    }

    @Test
    void statsMessagesAsDmstatsSendsThem() {
        createTwo();
        assertEquals("0\n", run("message lv0 0 @stats_create - /2"));
        assertEquals("0: 0+8192 4096 - -\n", run("message lv0 0 @stats_list"));
        org.dmstack.block.Bio write = org.dmstack.block.Bio.write(4088, java.lang.foreign.MemorySegment.ofArray(new byte[16 * 512]));
        stack.registry.lookup("dm-0").submit(write);
        write.await();
        String[] areas = run("message lv0 0 @stats_print 0").split("\n");
        assertEquals(2, areas.length);
        assertEquals(java.util.List.of("0+4096", "0", "0", "0"), Stack.words(areas[0]).subList(0, 4));
        assertEquals(java.util.List.of("1", "0", "8"), Stack.words(areas[0]).subList(5, 8));
        assertEquals(java.util.List.of("4096+4096", "0", "0", "0"), Stack.words(areas[1]).subList(0, 4));
        assertEquals(java.util.List.of("1", "0", "8"), Stack.words(areas[1]).subList(5, 8));
        assertEquals("", run("message lv0 0 @stats_delete 0"));
        assertEquals("device-mapper: message ioctl on lv0  failed: No such file or directory (no region 0)\nCommand failed.",
                assertThrows(Exception.class, () -> run("message lv0 0 @stats_print 0")).getMessage());
    }
}
