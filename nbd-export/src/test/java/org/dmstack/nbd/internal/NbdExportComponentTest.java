package org.dmstack.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.BlkStatus;
import org.junit.jupiter.api.Test;

/** The DS component, driven as SCR drives it: a reference injected, activate with a configuration. */
class NbdExportComponentTest {

    static NbdExportComponent.Config config(String address, int port, String... exports) {
        return new NbdExportComponent.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return NbdExportComponent.Config.class;
            }

            @Override
            public String address() {
                return address;
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public String[] exports() {
                return exports;
            }

            @Override
            public long hold_timeout_ms() {
                return 1000;
            }

            @Override
            public long handshake_timeout_ms() {
                return 10_000;
            }

            @Override
            public long idle_timeout_ms() {
                return 0;
            }

            @Override
            public int max_connections() {
                return 8;
            }

            @Override
            public int backlog() {
                return 64;
            }

            @Override
            public int max_inflight_bytes() {
                return 1 << 20;
            }
        };
    }

    static NbdExportComponent component(BlockDeviceRegistry registry) throws ReflectiveOperationException {
        NbdExportComponent c = new NbdExportComponent();
        Field f = NbdExportComponent.class.getDeclaredField("registry");
        f.setAccessible(true);
        f.set(c, registry);
        return c;
    }

    static GenDisk disk(String name, int minor) {
        return GenDisk.builder(name, new DevT(DevT.RAMDISK_MAJOR, minor), 2048, bio -> bio.endio(BlkStatus.OK)).build();
    }

    @Test
    void servesTheConfiguredExportsOnTheConfiguredAddress() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        registry.add(disk("ram0", 0));
        registry.add(disk("ram1", 1));
        NbdExportComponent c = component(registry);
        c.activate(config("127.0.0.1", 0, "disk=ram0:ro", "a=1:1, b=ram1"));
        try {
            assertEquals("127.0.0.1", c.server().localAddress().getAddress().getHostAddress());
            assertEquals(List.of("a", "b", "disk"), c.server().exportNames(), "entries may hold several exports, comma-separated");
        } finally {
            c.deactivate();
        }
        assertNull(c.server());
    }

    @Test
    void runsOnlyWithItsConfiguration() throws Exception {
        // SCR reads the policy from the component description bnd generated from the annotation.
        try (var in = NbdExportComponent.class.getResourceAsStream("/OSGI-INF/" + NbdExportComponent.class.getName() + ".xml")) {
            String xml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(xml.contains("configuration-policy=\"require\""), xml);
            assertTrue(xml.contains("configuration-pid=\"org.dmstack.nbd\""), xml);
        }
    }

    @Test
    void aBusyPortIsLoggedAndNothingIsServed() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        registry.add(disk("ram0", 0));
        try (java.nio.channels.ServerSocketChannel busy = java.nio.channels.ServerSocketChannel.open()) {
            busy.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            int port = ((java.net.InetSocketAddress) busy.getLocalAddress()).getPort();
            NbdExportComponent c = component(registry);
            c.activate(config("127.0.0.1", port, "ram0"));
            assertNull(c.server(), "activation does not fail with a trace; the server simply is not there");
            c.deactivate();
        }
    }

    @Test
    void withoutExportsEveryDeviceIsServed() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        registry.add(disk("ram0", 0));
        NbdExportComponent c = component(registry);
        c.activate(config("127.0.0.1", 0));
        try {
            registry.add(disk("ram1", 1));
            assertEquals(List.of("ram0", "ram1"), c.server().exportNames());
        } finally {
            c.deactivate();
        }
    }
}
