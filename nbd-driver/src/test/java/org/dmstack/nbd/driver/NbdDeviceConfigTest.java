package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.dmstack.block.BlockDeviceRegistry;
import org.junit.jupiter.api.Test;

/** URIs as libnbd writes them, and the configuration of nbd-NAME.cfg. */
class NbdDeviceConfigTest {
    @Test
    void urisAsLibnbdWritesThem() {
        assertEquals(new NbdUri("example.com", 10809, null, ""), NbdUri.parse("nbd://example.com"));
        assertEquals(new NbdUri("example.com", 10809, null, ""), NbdUri.parse("nbd://example.com/"));
        assertEquals(new NbdUri("10.0.0.2", 10810, null, "disk"), NbdUri.parse("nbd://10.0.0.2:10810/disk"));
        assertEquals(new NbdUri("::1", 10809, null, "/abs"), NbdUri.parse("nbd://[::1]//abs"));
        assertEquals(new NbdUri("h", 10809, null, "a b"), NbdUri.parse("nbd://h/a%20b"));
        assertEquals(new NbdUri(null, 0, Path.of("/run/nbd.sock"), "disk"), NbdUri.parse("nbd+unix:///disk?socket=/run/nbd.sock"));
        assertEquals(new NbdUri(null, 0, Path.of("/s"), ""), NbdUri.parse("nbd+unix:///?socket=/s"));
        assertEquals(new NbdUri(null, 0, Path.of("/s"), ""), NbdUri.parse("nbd+unix://?socket=/s"));
        assertEquals(new NbdUri("h", 10809, null, "a+b"), NbdUri.parse("nbd://h/a+b"), "a + is a +, not a space (RFC 3986, as libnbd)");
        assertEquals(new NbdUri("::1", 10810, null, "disk"), NbdUri.parse("nbd://[::1]:10810/disk"));
    }

    /** What libnbd 1.14's nbd_connect_uri (nbdinfo) ignores, we ignore too (doc/uri.md allows both). */
    @Test
    void aUserNameAndAFragmentAreIgnoredAsLibnbdIgnoresThem() {
        assertEquals(new NbdUri("h", 10810, null, "disk"), NbdUri.parse("nbd://alice@h:10810/disk"), "userinfo is for TLS authentication");
        assertEquals(new NbdUri("::1", 10809, null, "x"), NbdUri.parse("nbd://alice@[::1]/x"));
        assertEquals(new NbdUri("h", 10809, null, "disk"), NbdUri.parse("nbd://h/disk#part1"));
        assertEquals(new NbdUri("h", 10809, null, "a#b"), NbdUri.parse("nbd://h/a%23b"), "a # in an export name is written %23");
        assertEquals(new NbdUri(null, 0, Path.of("/s"), "d"), NbdUri.parse("nbd+unix:///d?socket=/s#x"));
        NbdUri odd = new NbdUri(null, 0, Path.of("/run/a b#1&x.sock"), "d#1");
        assertEquals("nbd+unix:///d%231?socket=/run/a%20b%231%26x.sock", odd.toString());
        assertEquals(odd, NbdUri.parse(odd.toString()), "the form toString writes is read back");
        for (String uri : new String[] {"nbd://h:10810/disk", "nbd://h/", "nbd://[::1]/x", "nbd+unix:///disk?socket=/run/nbd.sock"}) {
            assertEquals(uri, NbdUri.parse(uri).toString());
        }
    }

    @Test
    void refusesWhatItCannotUseWithTheReason() {
        assertEquals("Invalid NBD URI 'nbds://h/': TLS is not supported; use nbd:// or nbd+unix://", message(() -> NbdUri.parse("nbds://h/")));
        assertEquals("Invalid NBD URI 'nbd+unix:///disk': an nbd+unix URI needs ?socket=PATH", message(() -> NbdUri.parse("nbd+unix:///disk")));
        assertEquals("Invalid NBD URI 'nbd://h:0/': invalid port '0'", message(() -> NbdUri.parse("nbd://h:0/")));
        assertEquals("Invalid NBD URI 'nbd://h/?tls=on': the parameter 'tls' is not supported (only socket=PATH is)",
                message(() -> NbdUri.parse("nbd://h/?tls=on")));
        assertEquals("Invalid NBD URI 'nbds+unix:///?socket=/s': TLS is not supported; use nbd:// or nbd+unix://",
                message(() -> NbdUri.parse("nbds+unix:///?socket=/s")));
        assertEquals("Invalid NBD URI 'nbd://h/?tls-verify-peer=0': the parameter 'tls-verify-peer' is for TLS, which is not supported",
                message(() -> NbdUri.parse("nbd://h/?tls-verify-peer=0")));
        assertEquals("Invalid NBD URI 'nbd+unix:///?socket=/s&x-foo=1': the parameter 'x-foo' is not supported (only socket=PATH is)",
                message(() -> NbdUri.parse("nbd+unix:///?socket=/s&x-foo=1")), "doc/uri.md: unknown parameters SHOULD be diagnosed");
        assertEquals("Invalid NBD URI 'nbd+unix:///?socket=%00/abstract': sockets in the abstract namespace (socket=%00...) are not supported",
                message(() -> NbdUri.parse("nbd+unix:///?socket=%00/abstract")));
        assertEquals("Invalid NBD URI 'nbd://h:/': invalid port ''", message(() -> NbdUri.parse("nbd://h:/")), "libnbd refuses it too");
        assertEquals("Invalid NBD URI 'nbd://[::1/': unclosed [ in the host", message(() -> NbdUri.parse("nbd://[::1/")));
        assertEquals("Invalid NBD URI 'nbd://h/%zz': bad percent-encoding in '%zz'", message(() -> NbdUri.parse("nbd://h/%zz")));
        assertEquals("Invalid NBD URI 'http://h/': unknown scheme 'http' (expected nbd or nbd+unix)", message(() -> NbdUri.parse("http://h/")));
        assertEquals("Invalid NBD URI 'h:10809': expected nbd://host[:port]/export or nbd+unix:///export?socket=PATH",
                message(() -> NbdUri.parse("h:10809")));
    }

    @Test
    void propertiesOfAConfigFile() {
        NbdDeviceConfig c = NbdDeviceConfig.from(Map.of("uri", "nbd://h/disk", "name", "nbd2", "connections", "4", "timeout", "500ms"));
        assertEquals(new NbdDeviceConfig("nbd2", NbdUri.parse("nbd://h/disk"), 4, Duration.ofMillis(500)), c);
        assertEquals(new NbdDeviceConfig(null, NbdUri.parse("nbd://h/disk"), 1, Duration.ofSeconds(60)), NbdDeviceConfig.from(Map.of("uri", "nbd://h/disk")));
        assertEquals(Duration.ofSeconds(30), NbdDeviceConfig.from(Map.of("uri", "nbd://h/", "timeout", "30")).timeout());
        assertEquals(Duration.ofMinutes(2), NbdDeviceConfig.from(Map.of("uri", "nbd://h/", "timeout", "2m")).timeout());
        assertEquals("nbd: uri is missing (uri = nbd://host:port/export or nbd+unix:///export?socket=PATH)",
                message(() -> NbdDeviceConfig.from(Map.of("name", "nbd0"))));
        assertEquals("nbd: name must be nbdN (nbd0, nbd1, ...), not 'sda'", message(() -> NbdDeviceConfig.from(Map.of("uri", "nbd://h/", "name", "sda"))));
        assertEquals("nbd: connections must be between 1 and 64, not 0", message(() -> NbdDeviceConfig.from(Map.of("uri", "nbd://h/", "connections", "0"))));
        assertEquals("nbd: timeout must be a number of seconds or a duration like 500ms, 30s or 2m, not '1h'",
                message(() -> NbdDeviceConfig.from(Map.of("uri", "nbd://h/", "timeout", "1h"))));
    }

    @Test
    void aHostThatDoesNotResolveIsNamedInLastError() throws InterruptedException {
        try (NbdDriver nbd = new NbdDriver(new BlockDeviceRegistry())) {
            NbdDevice d = nbd.add(NbdDeviceConfig.of("nbd://no-such-host.invalid/disk"));
            assertEquals("unknown host 'no-such-host.invalid'", Io.awaitLastError(d));
        }
    }

    @Test
    void namesAndNumbersAsLinuxGivesThem() {
        assertEquals("43:0", NbdDriver.devt(0).toString());
        assertEquals("43:32", NbdDriver.devt(1).toString());
        assertEquals(15, NbdDriver.indexOf("nbd15"));
        assertEquals(-1, NbdDriver.indexOf("nbd01"));
        assertEquals(-1, NbdDriver.indexOf("nbd"));
        try (NbdDriver nbd = new NbdDriver(new BlockDeviceRegistry())) {
            NbdDevice first = nbd.add(NbdDeviceConfig.of("nbd+unix:///?socket=/nonexistent/a.sock"));
            NbdDevice named = nbd.add(NbdDeviceConfig.of("nbd+unix:///?socket=/nonexistent/b.sock").withName("nbd1"));
            NbdDevice third = nbd.add(NbdDeviceConfig.of("nbd+unix:///?socket=/nonexistent/c.sock"));
            assertEquals(java.util.List.of("nbd0", "nbd1", "nbd2"), java.util.List.of(first.name(), named.name(), third.name()));
            assertEquals("nbd: nbd1 is already configured (nbd+unix:///?socket=/nonexistent/b.sock)",
                    message(() -> nbd.add(NbdDeviceConfig.of("nbd://h/").withName("nbd1"))));
            assertEquals(null, first.device(), "no server, no device");
        }
    }

    private static String message(org.junit.jupiter.api.function.Executable e) {
        return assertThrows(RuntimeException.class, e).getMessage();
    }
}
