package org.dmstack.nbd.server;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Puts a connection's socket back into blocking mode once only platform threads use it.
 *
 * <p>The handshake runs on a virtual thread, and the JDK makes a socket non-blocking the first
 * time a virtual thread blocks on it, and never undoes it: a platform thread's blocking read then
 * waits as read(2) → EAGAIN → poll(2) → read(2), three system calls where one would do — at queue
 * depth 1, for every request. The channel does not tell its file descriptor, so this finds it
 * among the process's (/proc/self/fd) by its two addresses (getsockname(2) and getpeername(2):
 * one TCP connection has one pair) and clears O_NONBLOCK with fcntl(2). It checks the pair again
 * afterwards and puts the flag back if the descriptor was closed and reused meanwhile.
 *
 * <p>From then on no virtual thread may block on the socket: it would hold its carrier in the
 * kernel. The connection's reader and {@link Sender} are platform threads; replies made on any
 * other thread go through the sender.
 */
final class BlockingMode {
    private static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0x800;
    private static final int AF_INET = 2, AF_INET6 = 10;
    private static final MethodHandle FCNTL, GETSOCKNAME, GETPEERNAME;

    static {
        Linker linker = Linker.nativeLinker();
        FCNTL = linker.downcallHandle(linker.defaultLookup().find("fcntl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
        FunctionDescriptor name = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        GETSOCKNAME = linker.downcallHandle(linker.defaultLookup().find("getsockname").orElseThrow(), name);
        GETPEERNAME = linker.downcallHandle(linker.defaultLookup().find("getpeername").orElseThrow(), name);
    }

    private BlockingMode() {}

    /** Makes {@code channel}'s socket blocking; false (nothing changed) when its descriptor was not found. */
    static boolean restore(SocketChannel channel) throws IOException {
        SocketAddress local = channel.getLocalAddress(), peer = channel.getRemoteAddress();
        try (Arena arena = Arena.ofConfined(); DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            MemorySegment address = arena.allocate(128), length = arena.allocate(JAVA_INT);
            for (Path p : fds) {
                int fd = Integer.parseInt(p.getFileName().toString());
                if (!peer.equals(address(GETPEERNAME, fd, address, length)) || !local.equals(address(GETSOCKNAME, fd, address, length))) continue;
                int flags = fcntl(fd, F_GETFL, 0);
                if (flags < 0 || (flags & O_NONBLOCK) == 0) return flags >= 0;
                fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
                if (peer.equals(address(GETPEERNAME, fd, address, length)) && local.equals(address(GETSOCKNAME, fd, address, length))) return true;
                fcntl(fd, F_SETFL, flags); // closed and reused under us: not ours to change
                return false;
            }
        }
        return false;
    }

    /** What getsockname or getpeername says of {@code fd}; null for anything but an IP socket with an address. */
    private static InetSocketAddress address(MethodHandle call, int fd, MemorySegment address, MemorySegment length) throws IOException {
        length.set(JAVA_INT, 0, (int) address.byteSize());
        int rc;
        try {
            rc = (int) call.invokeExact(fd, address, length);
        } catch (Throwable t) {
            throw new IllegalStateException("getsockname", t);
        }
        if (rc != 0) return null;
        int family = address.get(JAVA_SHORT, 0);
        int port = Short.toUnsignedInt(address.get(JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN), 2));
        byte[] ip = switch (family) {
            case AF_INET -> address.asSlice(4, 4).toArray(JAVA_BYTE);
            case AF_INET6 -> address.asSlice(8, 16).toArray(JAVA_BYTE);
            default -> null;
        };
        // getByAddress turns an IPv4-mapped IPv6 address into the Inet4Address the JDK reports.
        return ip == null ? null : new InetSocketAddress(InetAddress.getByAddress(ip), port);
    }

    private static int fcntl(int fd, int cmd, int arg) {
        try {
            return (int) FCNTL.invokeExact(fd, cmd, arg);
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl", t);
        }
    }
}
