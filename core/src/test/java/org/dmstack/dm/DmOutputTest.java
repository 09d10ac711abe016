package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dmstack.block.DevT;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What device-mapper reports: table and status lines (the targets' text, byte for byte) and the
 * state info, list, deps and targets return. The shell's tests check how dmsetup prints them.
 */
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
        assertEquals(new DeviceInfo("lv", null, new DevT(254, 0), false, true, false, 0, 0, 4), f.dm.info("lv"));
        f.dm.load("lv", "0 8 zero");
        f.dm.suspend("lv");
        DeviceInfo info = f.dm.info("lv");
        assertTrue(info.suspended());
        assertTrue(info.liveTable() && info.inactiveTable());
        assertEquals("0 8 zero \n", f.dm.table("lv", true));
        f.dm.resume("lv");
        assertEquals("0 8 zero \n", f.dm.table("lv"));
        assertEquals(8, f.dm.get("lv").disk().capacity());
        assertEquals(new DeviceInfo("lv", null, new DevT(254, 0), false, true, false, 0, 0, 1), f.dm.info("lv"));
    }

    @Test
    void listDepsAndTargets() {
        f.dm.create("base", "0 1024 testlinear ram0 0\n1024 1024 testlinear ram1 0");
        f.dm.create("top", "0 2048 testlinear base 0");
        f.dm.create("other", "u-1", "0 100 testlinear ram1 100");
        assertEquals(List.of(
                new DeviceInfo("base", null, new DevT(254, 0), false, true, false, 1, 0, 2),
                new DeviceInfo("other", "u-1", new DevT(254, 2), false, true, false, 0, 0, 1),
                new DeviceInfo("top", null, new DevT(254, 1), false, true, false, 0, 0, 1)), f.dm.list());
        assertEquals(List.of(new DevT(1, 1), new DevT(1, 0)), f.dm.deps("base"));
        assertEquals(List.of(new DevT(254, 0)), f.dm.deps("top"));
        // 6.1's dm-zero.c is {1, 1, 0} and dm-target.c's error {1, 5, 0}; 6.4's discard support made them 1.2.0 and 1.6.0.
        assertEquals(List.of(new TargetVersion("testlinear", 1, 0, 0), new TargetVersion("zero", 1, 1, 0), new TargetVersion("error", 1, 5, 0)),
                f.dm.targets());
    }

    @Test
    void depsAreTheLiveTables() {
        f.dm.create("lv", "0 8 zero");
        f.dm.load("lv", "0 8 testlinear ram0 0");
        assertEquals(List.of(), f.dm.deps("lv"));
        f.dm.resume("lv");
        assertEquals(List.of(new DevT(1, 0)), f.dm.deps("lv"));
        assertEquals(List.of(), f.dm.list().stream().filter(DeviceInfo::suspended).toList());
        f.dm.remove("lv");
        assertEquals(List.of(), f.dm.list());
    }

    @Test
    void renameKeepsTheKernelName() {
        f.dm.create("old", "0 10 zero");
        f.dm.rename("old", "new");
        assertEquals(List.of("new"), f.dm.list().stream().map(DeviceInfo::name).toList());
        assertEquals("new", f.dm.get("new").disk().attributes().read("dm/name"));
        assertEquals("dm-0", f.dm.get("new").disk().name());
    }

    @Test
    void messagesGoToTheTargetAtTheSector() {
        // dm-ioctl.c 6.1, target_message: "Target type does not support messages" for a type with no
        // .message, "Target message sector outside device." past the end, "Empty message received." first.
        f.dm.create("m", "0 10 zero");
        DmException e = assertThrows(DmException.class, () -> f.dm.message("m", 0, List.of("hello")));
        assertEquals("message ioctl on m failed: Invalid argument (Target type does not support messages)", e.getMessage());
        e = assertThrows(DmException.class, () -> f.dm.message("m", 10, List.of("hello")));
        assertEquals("message ioctl on m failed: Invalid argument (Target message sector outside device.)", e.getMessage());
        e = assertThrows(DmException.class, () -> f.dm.message("m", 10, List.of()));
        assertEquals("message ioctl on m failed: Invalid argument (Empty message received.)", e.getMessage());
    }

    @Test
    void messagesToDmItselfAndToADeviceWithoutATable() {
        // message_for_md: '@' words are dm's; @cancel_deferred_remove takes no argument; others are refused.
        f.dm.create("m", "0 10 zero");
        assertEquals("", f.dm.message("m", 0, List.of("@cancel_deferred_remove")));
        DmException e = assertThrows(DmException.class, () -> f.dm.message("m", 0, List.of("@cancel_deferred_remove", "now")));
        assertEquals("message ioctl on m failed: Invalid argument (Invalid arguments for @cancel_deferred_remove)", e.getMessage());
        e = assertThrows(DmException.class, () -> f.dm.message("m", 0, List.of("@hello")));
        assertEquals("message ioctl on m failed: Invalid argument (Unsupported message sent to DM core: @hello)", e.getMessage());
        // target_message: no live table, "goto out_table" with r = 2, which dmsetup takes as success with no answer.
        f.dm.create("empty", "");
        assertEquals("", f.dm.message("empty", 0, List.of("hello")));
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
