package org.dmstack.pmem.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DS components driven in plain Java: regions come and go, factory configurations make devices. */
class PmemComponentTest {
    @TempDir
    Path dir;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();

    private static Region region(int id, Region.Type type, Region.Backing backing) {
        return new Region("region" + id, id, type, 0x2_0000_0000L, 1 << 20, backing, Region.PersistenceDomain.MEMORY_CONTROLLER, 1, List.of(),
                List.of(), 0, List.of());
    }

    @Test
    void regionServicesAndFactoryConfigurationsMakeDevices() {
        PmemComponent driver = new PmemComponent(registry);
        Region r0 = region(0, Region.Type.PERSISTENT, Region.Backing.file(dir.resolve("r0.img"), true));
        Region r1 = region(1, Region.Type.VOLATILE, Region.Backing.anonymous());
        driver.bindRegion(r0);
        driver.bindRegion(r1);
        assertNotNull(registry.lookup("pmem0"));
        assertEquals("0", registry.lookup("pmem1").attributes().read("dax/write_cache"));
        assertEquals(0x2_0000_0000L >>> 12, driver.device("pmem0").pfn());

        PmemNamespaceComponent ns = new PmemNamespaceComponent(driver);
        ns.activate(Map.of("path", dir.resolve("ns.img").toString(), "size", "2M", "create", "true", "service.pid", "org.dmstack.pmem~a"));
        assertEquals("pmem2", ns.device().name());
        assertEquals(2L << 20, registry.lookup("pmem2").sizeBytes());

        PmemNamespaceComponent bad = new PmemNamespaceComponent(driver);
        assertThrows(RuntimeException.class, () -> bad.activate(Map.of("path", dir.resolve("bad.img").toString(), "size", "3000", "create", "true")));
        assertNull(bad.device());
        assertTrue(Files.notExists(dir.resolve("bad.img")));
        bad.deactivate();

        driver.unbindRegion(r1);
        assertNull(registry.lookup("pmem1"));
        ns.deactivate();
        assertNull(registry.lookup("pmem2"));
        driver.deactivate();
        assertEquals(List.of(), registry.devices());
        assertTrue(Files.exists(dir.resolve("ns.img")), "files stay");
    }
}
