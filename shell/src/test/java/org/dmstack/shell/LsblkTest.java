package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dmstack.shell.lsblk.Lsblk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * lsblk's output byte for byte as util-linux 2.38 prints it to a pipe: libsmartcols' column
 * widths (the widest cell, at least the header, at least the width hint once the cells reach the
 * header: SIZE is 5 wide from 4-character sizes on), the unpadded last column, and
 * lib/jsonwrt.c's JSON.
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
                """, run(""));
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
                """, run(""));
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
                lv0  254:0    0   8M  0 dm  \s
                ram1   1:1    0  16M  0 disk\s
                """, run("-l"));
        assertEquals("""
                ram0   1:0    0  16M  0 disk\s
                lv0  254:0    0   8M  0 dm  \s
                ram1   1:1    0  16M  0 disk\s
                """, run("-ln"));
    }

    @Test
    void chosenColumns() {
        stack.dm.create("lv0", "LVM-abc", "0 8192 linear ram0 0");
        assertEquals("""
                NAME  KNAME PATH            TYPE LOG-SEC
                ram0  ram0  /dev/ram0       disk     512
                └─lv0 dm-0  /dev/mapper/lv0 lvm      512
                ram1  ram1  /dev/ram1       disk     512
                """, run("-o NAME,KNAME,PATH,TYPE,LOG-SEC"));
        String gap = " ".repeat(11);
        assertEquals("NAME  MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS PKNAME\n"
                + "ram0    1:0    0  16M  0 disk " + gap + " \n"
                + "└─lv0 254:0    0   4M  0 lvm  " + gap + " ram0\n"
                + "ram1    1:1    0  16M  0 disk " + gap + " \n", run("-o +PKNAME"));
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
                """, run("-J"));
        assertEquals("""
                {
                   "blockdevices": [
                      {
                         "name": "ram0",
                         "size": 16777216,
                         "dax": false,
                         "pkname": null
                      },{
                         "name": "lv0",
                         "size": 4194304,
                         "dax": false,
                         "pkname": "ram0"
                      },{
                         "name": "ram1",
                         "size": 16777216,
                         "dax": false,
                         "pkname": null
                      }
                   ]
                }
                """, run("-J -l -b -o NAME,SIZE,DAX,PKNAME"));
    }

    @Test
    void helpAndErrors() {
        assertTrue(run("--help").startsWith("Usage: lsblk "), run("--help"));
        CommandException e = assertThrows(CommandException.class, () -> run("ram7"));
        assertEquals("lsblk: ram7: not a block device", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-x"));
        assertTrue(e.getMessage().startsWith("lsblk: option '-x' is not supported\nUsage: lsblk "), e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-o NAME,FSTYPE"));
        assertEquals("lsblk: unknown column: FSTYPE", e.getMessage());
    }
}
