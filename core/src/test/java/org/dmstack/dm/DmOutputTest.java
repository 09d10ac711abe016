package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** dmsetup's output formats, byte for byte. */
class DmOutputTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void tableStatusAndInfo() {
        f.dm.create("lv", "0 1024 testlinear /dev/ram0 8\n1024 512 testlinear 1:1 0\n1536 64 zero\n1600 16 error");
        assertEquals("0 1024 testlinear 1:0 8\n1024 512 testlinear 1:1 0\n1536 64 zero \n1600 16 error \n", f.dm.table("lv"));
        assertEquals("0 1024 testlinear \n1024 512 testlinear \n1536 64 zero \n1600 16 error \n", f.dm.status("lv"));
        assertEquals("""
                Name:              lv
                State:             ACTIVE
                Read Ahead:        256
                Tables present:    LIVE
                Open count:        0
                Event number:      0
                Major, minor:      254, 0
                Number of targets: 4
                """, f.dm.info("lv"));
        f.dm.load("lv", "0 8 zero");
        f.dm.suspend("lv");
        String info = f.dm.info("lv");
        assertEquals("State:             SUSPENDED", info.lines().toList().get(1));
        assertEquals("Tables present:    LIVE & INACTIVE", info.lines().toList().get(3));
        assertEquals("0 8 zero \n", f.dm.table("lv", true));
        f.dm.resume("lv");
        assertEquals("0 8 zero \n", f.dm.table("lv"));
        assertEquals(8, f.dm.get("lv").disk().capacity());
    }

    @Test
    void lsTreeDepsAndTargets() {
        f.dm.create("base", "0 1024 testlinear ram0 0\n1024 1024 testlinear ram1 0");
        f.dm.create("top", "0 2048 testlinear base 0");
        f.dm.create("other", null, "0 100 testlinear ram1 100");
        assertEquals("base\t(254:0)\nother\t(254:2)\ntop\t(254:1)\n", f.dm.ls());
        assertEquals("""
                other (254:2)
                 └─ (1:1)
                top (254:1)
                 └─base (254:0)
                    ├─ (1:1)
                    └─ (1:0)
                """, f.dm.lsTree());
        assertEquals("2 dependencies\t: (1, 1) (1, 0)\n", f.dm.deps("base"));
        assertEquals("1 dependencies\t: (254, 0)\n", f.dm.deps("top"));
        assertEquals("""
                testlinear       v1.0.0
                zero             v1.2.0
                error            v1.6.0
                """, f.dm.targets());
    }

    @Test
    void renameKeepsTheKernelName() {
        f.dm.create("old", "0 10 zero");
        f.dm.rename("old", "new");
        assertEquals("new\t(254:0)\n", f.dm.ls());
        assertEquals("new", f.dm.get("new").disk().attributes().read("dm/name"));
        assertEquals("dm-0", f.dm.get("new").disk().name());
    }

    @Test
    void messagesGoToTheTargetAtTheSector() {
        f.dm.create("m", "0 10 zero");
        DmException e = org.junit.jupiter.api.Assertions.assertThrows(DmException.class, () -> f.dm.message("m", 0, List.of("hello")));
        assertEquals("message ioctl on m failed: Invalid argument (Unrecognised message received.)", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(DmException.class, () -> f.dm.message("m", 10, List.of("hello")));
        assertEquals("message ioctl on m failed: Invalid argument (Target message sector outside device)", e.getMessage());
    }

    @Test
    void aMessageRefusedWithoutAReasonSaysOnlyInvalidArgument() {
        f.dm.targetTypes().register(new TargetType() {
            @Override
            public String name() {
                return "silent";
            }

            @Override
            public Target construct(TargetContext context) {
                return new Target() {
                    @Override
                    public MapResult map(org.dmstack.block.Bio bio) {
                        return MapResult.KILL;
                    }

                    @Override
                    public String status(StatusType type) {
                        return "";
                    }

                    @Override
                    public void iterateDevices(DeviceVisitor visitor) {}

                    @Override
                    public String message(List<String> args) throws TargetException {
                        throw new TargetException("");
                    }
                };
            }
        });
        f.dm.create("s", "0 10 silent");
        DmException e = org.junit.jupiter.api.Assertions.assertThrows(DmException.class, () -> f.dm.message("s", 0, List.of("x")));
        assertEquals("message ioctl on s failed: Invalid argument", e.getMessage());
    }
}
