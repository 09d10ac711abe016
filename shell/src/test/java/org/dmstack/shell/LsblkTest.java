package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.dmstack.shell.lsblk.Lsblk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * lsblk's output byte for byte as util-linux 2.38 prints it to a pipe: libsmartcols' column
 * widths (the widest cell, at least the header, at least the width hint once the cells reach the
 * header: SIZE is 5 wide from 4-character sizes on), the unpadded last column, and
 * lib/jsonwrt.c's JSON. The RAM disks are left out unless -a (or named), as lsblk does. The
 * expected texts of -t, -D, -r, -P, -p, -d and the sorting were printed by util-linux 2.38.1's lsblk
 * reading the same attributes through --sysroot (see LsblkRealTest).
 */
class LsblkTest {
    private Stack stack;

    @BeforeEach
    void setUp() {
        stack = new Stack();
        stack.ram(0, 16 << 20);
        stack.ram(1, 16 << 20);
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    private String run(String line) {
        return Stack.capture((out, err) -> new Lsblk(stack.registry).run(line.isBlank() ? List.of() : Stack.words(line), out));
    }

    @Test
    void disksAlone() {
        assertEquals("""
                NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                ram0   1:0    0  16M  0 disk\s
                ram1   1:1    0  16M  0 disk\s
                """, run("-a"));
        assertEquals("", run(""), "lsblk leaves out RAM disks (major 1) unless -a");
        assertEquals("", run("-e 1,7"));
        assertEquals("NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nram1   1:1    0  16M  0 disk \n", run("-I 1 -o +MOUNTPOINT -o NAME,MAJ:MIN,RM,SIZE,RO,TYPE,MOUNTPOINTS ram1"));
    }

    @Test
    void mappedDevicesUnderEachDiskTheyUse() {
        stack.dm.create("lv0", "0 8192 linear ram0 0\n8192 8192 linear ram1 0");
        stack.dm.create("top", "0 3072 linear lv0 0");
        stack.dm.create("z", "0 1 zero");
        assertEquals("""
                NAME    MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS
                ram0      1:0    0   16M  0 disk\s
                └─lv0   254:0    0    8M  0 dm  \s
                  └─top 254:1    0  1.5M  0 dm  \s
                ram1      1:1    0   16M  0 disk\s
                └─lv0   254:0    0    8M  0 dm  \s
                  └─top 254:1    0  1.5M  0 dm  \s
                z       254:2    0  512B  0 dm  \s
                """, run("-a"));
        assertEquals("""
                NAME MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS
                z    254:2    0  512B  0 dm  \s
                """, run(""), "what stands on RAM disks alone goes with them");
        assertEquals("""
                NAME  MAJ:MIN RM  SIZE RO TYPE MOUNTPOINTS
                lv0   254:0    0    8M  0 dm  \s
                └─top 254:1    0  1.5M  0 dm  \s
                """, run("/dev/mapper/lv0"));
        assertEquals("""
                NAME MAJ:MIN RM    SIZE RO TYPE MOUNTPOINTS
                top  254:1    0 1572864  0 dm  \s
                """, run("-b top"));
    }

    @Test
    void listShowsEachDeviceOnceWithoutTheTree() {
        stack.dm.create("lv0", "0 8192 linear ram0 0\n8192 8192 linear ram1 0");
        assertEquals("""
                NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                ram0   1:0    0  16M  0 disk\s
                ram1   1:1    0  16M  0 disk\s
                lv0  254:0    0   8M  0 dm  \s
                """, run("-al"));
        assertEquals("""
                ram0   1:0    0  16M  0 disk\s
                ram1   1:1    0  16M  0 disk\s
                lv0  254:0    0   8M  0 dm  \s
                """, run("-aln"));
    }

    @Test
    void chosenColumns() {
        stack.dm.create("lv0", "LVM-abc", "0 8192 linear ram0 0");
        assertEquals("""
                NAME  KNAME PATH            TYPE LOG-SEC
                ram0  ram0  /dev/ram0       disk     512
                └─lv0 dm-0  /dev/mapper/lv0 lvm      512
                ram1  ram1  /dev/ram1       disk     512
                """, run("-a -o NAME,KNAME,PATH,TYPE,LOG-SEC"));
        String gap = " ".repeat(11);
        assertEquals("NAME  MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS PKNAME\n"
                + "ram0    1:0    0  16M  0 disk " + gap + " \n"
                + "└─lv0 254:0    0   4M  0 lvm  " + gap + " ram0\n"
                + "ram1    1:1    0  16M  0 disk " + gap + " \n", run("-a -o +PKNAME"));
    }

    @Test
    void jsonAsLibsmartcolsWritesIt() {
        stack.dm.create("lv0", "0 8192 linear ram0 0");
        assertEquals("""
                {
                   "blockdevices": [
                      {
                         "name": "ram0",
                         "maj:min": "1:0",
                         "rm": false,
                         "size": "16M",
                         "ro": false,
                         "type": "disk",
                         "mountpoints": [
                             null
                         ],
                         "children": [
                            {
                               "name": "lv0",
                               "maj:min": "254:0",
                               "rm": false,
                               "size": "4M",
                               "ro": false,
                               "type": "dm",
                               "mountpoints": [
                                   null
                               ]
                            }
                         ]
                      },{
                         "name": "ram1",
                         "maj:min": "1:1",
                         "rm": false,
                         "size": "16M",
                         "ro": false,
                         "type": "disk",
                         "mountpoints": [
                             null
                         ]
                      }
                   ]
                }
                """, run("-aJ"));
        assertEquals("""
                {
                   "blockdevices": [
                      {
                         "name": "ram0",
                         "size": 16777216,
                         "dax": false,
                         "pkname": null
                      },{
                         "name": "ram1",
                         "size": 16777216,
                         "dax": false,
                         "pkname": null
                      },{
                         "name": "lv0",
                         "size": 4194304,
                         "dax": false,
                         "pkname": "ram0"
                      }
                   ]
                }
                """, run("-a -J -l -b -o NAME,SIZE,DAX,PKNAME"));
    }

    @Test
    void rawPairsPathsAndNodepsKeepTheTreesOrderAndItsRepeats() {
        stack.dm.create("lv0", "0 8192 linear ram1 0\n8192 8192 linear ram0 0");
        assertEquals("""
                NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                ram0 1:0 0 16M 0 disk\s
                lv0 254:0 0 8M 0 dm\s
                ram1 1:1 0 16M 0 disk\s
                lv0 254:0 0 8M 0 dm\s
                """, run("-a -r"));
        assertEquals("""
                NAME="ram0" MAJ:MIN="1:0" RM="0" SIZE="16M" RO="0" TYPE="disk" MOUNTPOINTS=""
                NAME="lv0" MAJ:MIN="254:0" RM="0" SIZE="8M" RO="0" TYPE="dm" MOUNTPOINTS=""
                NAME="ram1" MAJ:MIN="1:1" RM="0" SIZE="16M" RO="0" TYPE="disk" MOUNTPOINTS=""
                NAME="lv0" MAJ:MIN="254:0" RM="0" SIZE="8M" RO="0" TYPE="dm" MOUNTPOINTS=""
                """, run("-a -P"));
        assertEquals("""
                NAME KNAME PKNAME
                /dev/ram0 /dev/ram0\s
                /dev/mapper/lv0 /dev/dm-0 /dev/ram0
                /dev/ram1 /dev/ram1\s
                /dev/mapper/lv0 /dev/dm-0 /dev/ram1
                """, run("-a -p -r -o NAME,KNAME,PKNAME"));
        assertEquals("""
                NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                ram0   1:0    0  16M  0 disk\s
                ram1   1:1    0  16M  0 disk\s
                """, run("-a -d"));
    }

    @Test
    void topologyAndDiscardColumns() {
        stack.dm.create("st", "0 8192 linear ram0 0\n8192 8192 linear ram1 0");
        // SCHED is empty: queue/scheduler names none in brackets ("none"), as on bio-based 6.1 disks.
        assertEquals("""
                NAME ALIGNMENT MIN-IO OPT-IO PHY-SEC LOG-SEC ROTA SCHED RQ-SIZE  RA WSAME
                ram0         0   4096      0    4096     512    0           128 128    0B
                └─st         0   4096      0    4096     512    0           128 128    0B
                ram1         0   4096      0    4096     512    0           128 128    0B
                └─st         0   4096      0    4096     512    0           128 128    0B
                """, run("-a -t"));
        assertEquals("""
                NAME DISC-ALN DISC-GRAN DISC-MAX DISC-ZERO
                ram0        0        0B       0B         0
                └─st        0        0B       0B         0
                ram1        0        0B       0B         0
                └─st        0        0B       0B         0
                """, run("-a -D"));
        assertEquals("""
                NAME DISC-ALN DISC-GRAN DISC-MAX DISC-ZERO NAME
                st 0 0 0 0 st
                """, run("-D -b -r -o +NAME st"));
        assertEquals("""
                {
                   "blockdevices": [
                      {
                         "name": "st",
                         "rota": false,
                         "sched": null,
                         "wsame": "0B",
                         "disc-gran": "0B"
                      }
                   ]
                }
                """, run("-J -o NAME,ROTA,SCHED,WSAME,DISC-GRAN st"));
    }

    @Test
    void helpAndErrors() {
        assertTrue(run("--help").startsWith("Usage: lsblk "), run("--help"));
        CommandException e = assertThrows(CommandException.class, () -> run("ram7"));
        assertEquals("lsblk: ram7: not a block device", e.getMessage());
        assertEquals(32, e.exitStatus());
        // Named devices that exist are listed; the status says some were not (util-linux 2.38.1).
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        e = assertThrows(CommandException.class,
                () -> new Lsblk(stack.registry).run(List.of("ram7", "ram1", "nosuch"), new PrintStream(printed, true, StandardCharsets.UTF_8)));
        assertEquals("lsblk: ram7: not a block device\nlsblk: nosuch: not a block device", e.getMessage());
        assertEquals(64, e.exitStatus());
        assertEquals("NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nram1   1:1    0  16M  0 disk \n", printed.toString(StandardCharsets.UTF_8));
        // getopt's words, as lsblk 2.38.1 prints them; an option lsblk has and dmstack lacks says so.
        e = assertThrows(CommandException.class, () -> run("-Z"));
        assertEquals("lsblk: invalid option -- 'Z'\nTry 'lsblk --help' for more information.", e.getMessage());
        assertEquals(1, e.exitStatus());
        e = assertThrows(CommandException.class, () -> run("--nosuch"));
        assertEquals("lsblk: unrecognized option '--nosuch'\nTry 'lsblk --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-bZ"));
        assertEquals("lsblk: invalid option -- 'Z'\nTry 'lsblk --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-o"));
        assertEquals("lsblk: option requires an argument -- 'o'\nTry 'lsblk --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("--output"));
        assertEquals("lsblk: option '--output' requires an argument\nTry 'lsblk --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-s"));
        assertEquals("lsblk: option '-s' is not supported\nTry 'lsblk --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-J -r"));
        assertEquals("lsblk: mutually exclusive arguments: --json --pairs --raw\nTry 'lsblk --help' for more information.", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-o NAME,FSTYPE"));
        assertEquals("lsblk: unknown column: FSTYPE", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-o NAME,x,SIZE"));
        assertEquals("lsblk: unknown column: x,SIZE", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-e 1x"));
        assertEquals("lsblk: failed to parse list '1x'", e.getMessage());
    }
}
