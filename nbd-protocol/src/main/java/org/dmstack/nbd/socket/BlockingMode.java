package org.dmstack.nbd.socket;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.channels.SocketChannel;

/**
 * Puts a connection's socket back into blocking mode once only platform threads use it.
 *
 * <p>A handshake runs on a virtual thread (the export's and the driver's both), and the JDK makes
 * a socket non-blocking the first time a virtual thread blocks on it, and never undoes it: a
 * platform thread's blocking read then waits as read(2) → EAGAIN → poll(2) → read(2), three system
 * calls where one would do — at queue depth 1, for every request. The channel does not tell its
 * file descriptor, so this finds it ({@link SocketDescriptor}) and clears O_NONBLOCK with fcntl(2).
 * It checks the descriptor again afterwards and puts the flag back if it was closed and reused
 * meanwhile.
 *
 * <p>From then on no virtual thread may block on the socket: it would hold its carrier in the
 * kernel. The caller sees to that (the export's reader and sender, the driver's sender and
 * receiver are platform threads).
 */
public final class BlockingMode {
    private static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 0x800;
    private static final MethodHandle FCNTL;

    static {
        Linker linker = Linker.nativeLinker();
        FCNTL = linker.downcallHandle(linker.defaultLookup().find("fcntl").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    }

    private BlockingMode() {}

    /** Makes {@code channel}'s socket blocking; false (nothing changed) when its descriptor was not found. */
    public static boolean restore(SocketChannel channel) throws IOException {
        int fd = SocketDescriptor.find(channel);
        if (fd < 0) return false;
        int flags = fcntl(fd, F_GETFL, 0);
        if (flags < 0 || (flags & O_NONBLOCK) == 0) return flags >= 0;
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        if (SocketDescriptor.isOf(fd, channel)) return true;
        fcntl(fd, F_SETFL, flags); // closed and reused under us: not ours to change
        return false;
    }

    private static int fcntl(int fd, int cmd, int arg) {
        try {
            return (int) FCNTL.invokeExact(fd, cmd, arg);
        } catch (Throwable t) {
            throw new IllegalStateException("fcntl", t);
        }
    }
}
