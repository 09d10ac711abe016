package org.dmstack.nbd.server.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.util.List;
import org.dmstack.nbd.server.FakeBackends;
import org.dmstack.nbd.server.MemBackend;
import org.dmstack.nbd.server.NbdServer;
import org.junit.jupiter.api.Test;

/** The DS component, driven as SCR drives it: the backends bound (or not), activate with a configuration. */
class NbdServerComponentTest {

    static NbdServerComponent.Config config(String address, int port, String... exports) {
        return new NbdServerComponent.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return NbdServerComponent.Config.class;
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

            @Override
            public long busy_poll_us() {
                return 50;
            }

            @Override
            public int max_options() {
                return NbdServer.DEFAULT_MAX_OPTIONS;
            }
        };
    }

    static NbdServerComponent component(FakeBackends backends) {
        NbdServerComponent c = new NbdServerComponent();
        c.bindBackends(backends);
        return c;
    }

    static MemBackend disk(String name) {
        return new MemBackend(name, 1 << 20);
    }

    @Test
    void servesTheConfiguredExportsOnTheConfiguredAddress() throws Exception {
        FakeBackends backends = new FakeBackends();
        backends.add(disk("ram0"));
        backends.add(disk("ram1"));
        NbdServerComponent c = component(backends);
        c.activate(config("127.0.0.1", 0, "disk=ram0:ro", "a=ram1, b=ram1"));
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
        try (var in = NbdServerComponent.class.getResourceAsStream("/OSGI-INF/" + NbdServerComponent.class.getName() + ".xml")) {
            String xml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(xml.contains("configuration-policy=\"require\""), xml);
            assertTrue(xml.contains("configuration-pid=\"org.dmstack.nbd\""), xml);
        }
    }

    @Test
    void aBusyPortIsLoggedAndNothingIsServed() throws Exception {
        FakeBackends backends = new FakeBackends();
        backends.add(disk("ram0"));
        try (java.nio.channels.ServerSocketChannel busy = java.nio.channels.ServerSocketChannel.open()) {
            busy.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            int port = ((java.net.InetSocketAddress) busy.getLocalAddress()).getPort();
            NbdServerComponent c = component(backends);
            c.activate(config("127.0.0.1", port, "ram0"));
            assertNull(c.server(), "activation does not fail with a trace; the server simply is not there");
            c.deactivate();
        }
    }

    @Test
    void withoutExportsEveryDeviceIsServed() throws Exception {
        FakeBackends backends = new FakeBackends();
        backends.add(disk("ram0"));
        NbdServerComponent c = component(backends);
        c.activate(config("127.0.0.1", 0));
        try {
            backends.add(disk("ram1"));
            assertEquals(List.of("ram0", "ram1"), c.server().exportNames());
        } finally {
            c.deactivate();
        }
    }

    @Test
    void theServerFollowsTheBackendsServiceAsItGoesAndComesBack() throws Exception {
        NbdServerComponent c = new NbdServerComponent();
        c.activate(config("127.0.0.1", 0, "disk=ram0"));
        try {
            assertEquals(List.of(), c.server().exportNames(), "listening, with nothing to offer before nbd-export is there");
            FakeBackends first = new FakeBackends();
            first.add(disk("ram0"));
            c.bindBackends(first);
            assertEquals(List.of("disk"), c.server().exportNames());
            c.unbindBackends(first); // core being updated
            assertEquals(List.of(), c.server().exportNames());
            FakeBackends second = new FakeBackends();
            second.add(disk("ram0"));
            c.bindBackends(second);
            assertEquals(List.of("disk"), c.server().exportNames());
        } finally {
            c.deactivate();
        }
    }
}
