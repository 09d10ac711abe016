package org.dmstack.nbd.socket;

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
 * The file descriptor of a connected TCP socket channel, which the channel does not tell: found
 * among the process's (/proc/self/fd) by its two addresses (getsockname(2) and getpeername(2): one
 * TCP connection has one pair). The channel may be closed and its number reused by another socket
 * at any time, so whoever changes the socket through the number checks with {@link #isOf}
 * afterwards and undoes the change if it is no longer the channel's.
 */
public final class SocketDescriptor {
    private static final int AF_INET = 2, AF_INET6 = 10;
    private static final MethodHandle GETSOCKNAME, GETPEERNAME;

    static {
        Linker linker = Linker.nativeLinker();
        FunctionDescriptor name = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        GETSOCKNAME = linker.downcallHandle(linker.defaultLookup().find("getsockname").orElseThrow(), name);
        GETPEERNAME = linker.downcallHandle(linker.defaultLookup().find("getpeername").orElseThrow(), name);
    }

    private SocketDescriptor() {}

    /** {@code channel}'s descriptor; -1 when none of the process's has its address pair. */
    public static int find(SocketChannel channel) throws IOException {
        return find(channel.getLocalAddress(), channel.getRemoteAddress());
    }

    /** The descriptor of this process's TCP socket between {@code local} and {@code peer}; -1 when there is none. */
    public static int find(SocketAddress local, SocketAddress peer) throws IOException {
        try (Arena arena = Arena.ofConfined(); DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            MemorySegment address = arena.allocate(128), length = arena.allocate(JAVA_INT);
            for (Path p : fds) {
                int fd = Integer.parseInt(p.getFileName().toString());
                if (joins(fd, local, peer, address, length)) return fd;
            }
        }
        return -1;
    }

    /** Whether {@code fd} is still {@code channel}'s socket (see {@link #find}). */
    public static boolean isOf(int fd, SocketChannel channel) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return joins(fd, channel.getLocalAddress(), channel.getRemoteAddress(), arena.allocate(128), arena.allocate(JAVA_INT));
        }
    }

    /** Whether socket {@code fd} is the one between {@code local} and {@code peer} ({@code address} and {@code length}: scratch). */
    private static boolean joins(int fd, SocketAddress local, SocketAddress peer, MemorySegment address, MemorySegment length) throws IOException {
        return peer.equals(address(GETPEERNAME, fd, address, length)) && local.equals(address(GETSOCKNAME, fd, address, length));
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
}
