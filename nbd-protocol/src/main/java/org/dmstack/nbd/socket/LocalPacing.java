package org.dmstack.nbd.socket;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Takes pacing off this end of a TCP connection whose other end is on this host.
 *
 * <p>BBR, the default TCP congestion control of some distributions and cloud images, paces what
 * a socket sends: it spaces the segments out at the bandwidth it has measured, releasing them
 * from a timer. Over loopback there is no link to spare and no queue to keep short, so pacing
 * only delays: a 1 MiB message leaves in pieces, each when the timer fires, and the peer takes it
 * late and cold. On two cores, the NBD export's 1 MiB READ replies over two connections ran 1.84
 * times as fast with its side on CUBIC, and the NBD driver's 1 MiB WRITEs to a local nbdkit
 * ran faster the same way (benchmarks/README.md, rounds 20 and 21).
 *
 * <p>So where the system's default congestion control is a BBR, a connection to or from this host
 * (a loopback peer, or one at the socket's own address) that has a BBR is switched to CUBIC, or to
 * RENO where CUBIC is not allowed (net.ipv4.tcp_allowed_congestion_control; RENO always is). Every
 * other connection keeps what the system chose: across a network, pacing is what BBR is for. Only
 * this end is changed: what the peer sends is paced, or not, by its own socket. The NBD export
 * does this for its side of a local client's connection, the NBD driver for its side of a
 * connection to a local server.
 */
public final class LocalPacing {
    private static final int IPPROTO_TCP = 6, TCP_CONGESTION = 13;
    /** TCP_CA_NAME_MAX: a congestion control's name, its NUL included. */
    private static final int NAME_MAX = 16;
    private static final String[] UNPACED = {"cubic", "reno"};
    private static final Path DEFAULT = Path.of("/proc/sys/net/ipv4/tcp_congestion_control");
    private static final MethodHandle GETSOCKOPT, SETSOCKOPT;

    static {
        Linker linker = Linker.nativeLinker();
        GETSOCKOPT = linker.downcallHandle(linker.defaultLookup().find("getsockopt").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        SETSOCKOPT = linker.downcallHandle(linker.defaultLookup().find("setsockopt").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    private LocalPacing() {}

    /**
     * Switches the congestion control of {@code channel}, a connection whose other end is on this
     * host ({@link #onThisHost}, which the caller has found), to one that does not pace, if the
     * system's default paces (a socket starts with it; looking first spares the search for the
     * descriptor where nothing paces); returns the one it now has, or null when nothing changed.
     */
    public static String unpace(SocketChannel channel) throws IOException {
        if (!paces(systemDefault())) return null;
        return unpace(channel, SocketDescriptor.find(channel));
    }

    /** As {@link #unpace(SocketChannel)} for socket {@code fd}, {@code channel}'s (-1: not found), whatever the default. */
    public static String unpace(SocketChannel channel, int fd) throws IOException {
        if (fd < 0) return null;
        String was = congestionControl(fd);
        if (was == null || !paces(was)) return null;
        for (String c : UNPACED) {
            if (!setCongestionControl(fd, c)) continue; // not allowed or not built: the next
            if (SocketDescriptor.isOf(fd, channel)) return c;
            setCongestionControl(fd, was); // closed and reused under us: not ours to change
            return null;
        }
        return null;
    }

    /** Whether a connection between these two addresses has both ends on this host. */
    public static boolean onThisHost(SocketAddress local, SocketAddress peer) {
        if (!(local instanceof InetSocketAddress l) || !(peer instanceof InetSocketAddress p)) return false;
        return p.getAddress().isLoopbackAddress() || p.getAddress().equals(l.getAddress());
    }

    /** The system's default congestion control (net.ipv4.tcp_congestion_control), "" where there is none to read. */
    public static String systemDefault() {
        try {
            return Files.readString(DEFAULT).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether a congestion control of this name paces (sk_pacing_status: only the BBRs ask for it). */
    public static boolean paces(String congestionControl) {
        return congestionControl.startsWith("bbr");
    }

    /** The congestion control of socket {@code fd} (TCP_CONGESTION), null if it cannot be read. */
    public static String congestionControl(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocate(NAME_MAX), length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, NAME_MAX);
            int rc = (int) GETSOCKOPT.invokeExact(fd, IPPROTO_TCP, TCP_CONGESTION, name, length);
            return rc == 0 ? name.getString(0) : null;
        } catch (Throwable t) {
            throw new IllegalStateException("getsockopt", t);
        }
    }

    /** Sets socket {@code fd}'s congestion control; false if the kernel refused it. */
    public static boolean setCongestionControl(int fd, String congestionControl) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(congestionControl);
            return (int) SETSOCKOPT.invokeExact(fd, IPPROTO_TCP, TCP_CONGESTION, name, congestionControl.length()) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException("setsockopt", t);
        }
    }
}
