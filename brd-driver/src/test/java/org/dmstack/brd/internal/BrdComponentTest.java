package org.dmstack.brd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.memory.PagePool;
import org.junit.jupiter.api.Test;

/**
 * The component's life as DS drives it, in plain Java: a stop and start (bundle stop or update)
 * keeps the contents, a modified configuration adds devices, a deleted one frees the memory.
 */
class BrdComponentTest {
    /** ComponentConstants.DEACTIVATION_REASON_BUNDLE_STOPPED. */
    private static final int BUNDLE_STOPPED = 6;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();

    @Test
    void stopAndStartKeepsContentsAndDeletingTheConfigurationFreesThem() {
        Map<String, Object> config = Map.of("rd_nr", "2", "rd_size", "65536");
        BrdComponent first = new BrdComponent(registry);
        first.activate(config);
        BlockDevice ram1 = registry.lookup("ram1");
        byte[] data = new byte[4096];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7 + 1);
        ram1.submit(Bio.write(8, MemorySegment.ofArray(data)));

        first.deactivate(BUNDLE_STOPPED);
        assertNull(registry.lookup("ram1"));
        assertEquals(List.of("brd/ram0", "brd/ram1"), PagePool.shared().keys("brd/"), "the memory outlives the component");

        BrdComponent second = new BrdComponent(registry);
        second.activate(config);
        MemorySegment back = MemorySegment.ofArray(new byte[4096]);
        Bio read = Bio.read(8, back);
        registry.lookup("ram1").submit(read);
        assertEquals(BlkStatus.OK, read.await());
        assertArrayEquals(data, back.toArray(ValueLayout.JAVA_BYTE));

        second.modified(Map.of("rd_nr", "3", "rd_size", "65536"));
        assertNotNull(registry.lookup("ram2"));
        second.modified(Map.of("rd_nr", "-3"));
        assertNotNull(registry.lookup("ram2"), "a rejected configuration changes nothing");

        second.deactivate(BrdComponent.CONFIGURATION_DELETED);
        assertNull(registry.lookup("ram0"));
        assertEquals(List.of(), PagePool.shared().keys("brd/"));
    }

    @Test
    void aBadConfigurationMakesNothing() {
        BrdComponent c = new BrdComponent(registry);
        assertThrows(IllegalArgumentException.class, () -> c.activate(Map.of("rd_nr", "1", "rd_size", "0")));
        assertNull(c.driver());
        assertEquals(List.of(), registry.devices());
        c.modified(Map.of("rd_nr", "1", "rd_size", "4"));
        assertNotNull(registry.lookup("ram0"));
        c.deactivate(BrdComponent.CONFIGURATION_DELETED);
        assertEquals(List.of(), PagePool.shared().keys("brd/"));
    }
}
