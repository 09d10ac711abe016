package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;

/** device-mapper after close(): a framework stopping core unbinds the target types after deactivation. */
class CloseTest {
    @Test
    void aTargetTypeLeavingAfterCloseIsIgnored() {
        DmFixture f = new DmFixture();
        TestLinear.Type type = new TestLinear.Type();
        f.dm.targetTypes().unregister(f.dm.targetTypes().get("testlinear"));
        f.dm.targetTypes().register(type);
        f.dm.create("lv", "0 2048 testlinear ram0 0");
        f.close();
        assertDoesNotThrow(() -> f.dm.targetTypes().unregister(type));
        assertDoesNotThrow(() -> f.dm.targetTypes().register(new TestLinear.Type()));
    }

    @Test
    void ioWaitingForADepartedDeviceFailsWhenDeviceMapperCloses() {
        DmFixture f = new DmFixture();
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0").disk();
        f.registry.remove(f.ram0.disk); // core stopping: the drivers' devices go too
        Bio w = Bio.write(8, Arena.ofAuto().allocate(512).fill((byte) 1));
        md.submit(w);
        assertFalse(w.isDone(), "held for ram0 to come back");
        f.close();
        assertEquals("IOERR: ram0: device-mapper is shutting down", w.await().toString(), "no timer will end it any more: it ends now");
    }
}
