package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

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
}
