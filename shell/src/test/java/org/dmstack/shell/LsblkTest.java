package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
                NAME    MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                ram0      1:0    0  16M  0 disk\s
                └─lv0   254:0    0   8M  0 dm  \s
                  └─top 254:1    0 1.5M  0 dm  \s
                ram1      1:1    0  16M  0 disk\s
                └─lv0   254:0    0   8M  0 dm  \s
                  └─top 254:1    0 1.5M  0 dm  \s
                z       254:2    0 512B  0 dm  \s
                """, run(""));
        assertEquals("""
                NAME  MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS
                lv0   254:0    0   8M  0 dm  \s
                └─top 254:1    0 1.5M  0 dm  \s
                """, run("/dev/mapper/lv0"));
        assertEquals("""
                NAME MAJ:MIN RM    SIZE RO TYPE MOUNTPOINTS
                top  254:1    0 1572864  0 dm  \s
                """, run("-b top"));
    }

    @Test
    void errors() {
        CommandException e = assertThrows(CommandException.class, () -> run("ram7"));
        assertEquals("lsblk: ram7: not a block device", e.getMessage());
        e = assertThrows(CommandException.class, () -> run("-x"));
        assertEquals("lsblk: invalid option -- '-x'\n" + Lsblk.USAGE.stripTrailing(), e.getMessage());
    }
}
