package org.dmstack.nbd.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LocalPacingTest {
    @Test
    void aLocalConnectionOnBbrIsSwitchedToCubicOnThisEndOnly() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel served = listener.accept()) {
            int fd = SocketDescriptor.find(served), clientFd = SocketDescriptor.find(client);
            assertTrue(fd >= 0 && clientFd >= 0 && fd != clientFd, "both ends found: " + fd + ", " + clientFd);
            assumeTrue(LocalPacing.setCongestionControl(fd, "bbr") && LocalPacing.setCongestionControl(clientFd, "bbr"),
                    "this kernel has no bbr (tcp_available_congestion_control): nothing here paces");

            assertEquals(expectedUnpaced(), LocalPacing.unpace(served, fd));

            assertEquals(expectedUnpaced(), LocalPacing.congestionControl(fd));
            assertEquals("bbr", LocalPacing.congestionControl(clientFd), "the other end is the peer's");
            assertNull(LocalPacing.unpace(served, fd), "done once: nothing left to change");
        }
    }

    @Test
    void aConnectionThatDoesNotPaceKeepsItsCongestionControl() throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                SocketChannel served = listener.accept()) {
            int fd = SocketDescriptor.find(served);
            assertTrue(LocalPacing.setCongestionControl(fd, "reno"), "reno is always there");

            assertNull(LocalPacing.unpace(served, fd));

            assertEquals("reno", LocalPacing.congestionControl(fd));
        }
    }

    @Test
    void onlyPeersOnThisHostCount() throws Exception {
        InetAddress lan = InetAddress.getByName("192.0.2.10"), other = InetAddress.getByName("192.0.2.77");
        assertTrue(LocalPacing.onThisHost(new InetSocketAddress(lan, 10809), new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40000)));
        assertTrue(LocalPacing.onThisHost(new InetSocketAddress(lan, 10809), new InetSocketAddress(InetAddress.getByName("127.1.2.3"), 40000)));
        assertTrue(LocalPacing.onThisHost(new InetSocketAddress(InetAddress.getByName("::1"), 10809), new InetSocketAddress(InetAddress.getByName("::1"), 40000)));
        assertTrue(LocalPacing.onThisHost(new InetSocketAddress(lan, 10809), new InetSocketAddress(lan, 40000)), "the socket's own address");
        assertFalse(LocalPacing.onThisHost(new InetSocketAddress(lan, 10809), new InetSocketAddress(other, 40000)), "across a network");
        assertFalse(LocalPacing.onThisHost(UnixDomainSocketAddress.of("/tmp/nbd.sock"), UnixDomainSocketAddress.of("")), "no TCP at all");
        assertTrue(LocalPacing.paces("bbr"));
        assertFalse(LocalPacing.paces("cubic"));
        assertFalse(LocalPacing.paces("reno"));
    }

    /** What the kernel lets a socket take of cubic and reno, in that order (root may take any it has). */
    private static String expectedUnpaced() throws IOException {
        List<String> allowed = Arrays.asList(Files.readString(Path.of("/proc/sys/net/ipv4/tcp_allowed_congestion_control")).trim().split(" "));
        List<String> available = Arrays.asList(Files.readString(Path.of("/proc/sys/net/ipv4/tcp_available_congestion_control")).trim().split(" "));
        boolean root = "root".equals(System.getProperty("user.name"));
        return (root ? available : allowed).contains("cubic") ? "cubic" : "reno";
    }
}
