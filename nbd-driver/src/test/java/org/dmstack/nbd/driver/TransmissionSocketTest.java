package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.nbd.socket.LocalPacing;
import org.dmstack.nbd.socket.SocketDescriptor;
import org.junit.jupiter.api.Test;

/**
 * The socket a connection transmits on, as the driver leaves it after the handshake: blocking,
 * used by platform threads only, and unpaced when the server is on this host. The mechanisms' own
 * tests ({@link org.dmstack.nbd.socket.BlockingMode}, {@link LocalPacing}) are nbd-protocol's.
 */
class TransmissionSocketTest extends DriverFixture {
    /** The server's end of the driver's first connection. */
    private final CompletableFuture<SocketChannel> served = new CompletableFuture<>();

    /** A correct server that keeps its end of the first connection in {@link #served}. */
    private FakeServer keepingItsEnd() throws IOException {
        return new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            served.complete(ch);
            FakeServer.serveCorrectly(ch, disk);
        });
    }

    /** nbd0 over {@code fake}, in transmission. */
    private BlockDevice connect(FakeServer fake) throws Exception {
        nbd.add(NbdDeviceConfig.of(fake.uri()));
        return Io.await(registry, "nbd0");
    }

    @Test
    void theDriverTakesPacingOffItsSideOfAConnectionToALocalServer() throws Exception {
        String system = LocalPacing.systemDefault();
        assumeTrue(LocalPacing.paces(system), "the system's congestion control (" + system + ") does not pace: nothing to take off");
        try (FakeServer fake = keepingItsEnd()) {
            BlockDevice nbd0 = connect(fake);
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(0, MemorySegment.ofArray(new byte[4096])))); // in transmission

            SocketChannel server = served.get(Io.LIMIT.toSeconds(), TimeUnit.SECONDS);
            int serverFd = SocketDescriptor.find(server);
            int driverFd = SocketDescriptor.find(server.getRemoteAddress(), server.getLocalAddress());
            assertTrue(serverFd >= 0 && driverFd >= 0, "both ends found");
            assertFalse(LocalPacing.paces(LocalPacing.congestionControl(driverFd)), "the driver's side paces no longer");
            assertEquals(system, LocalPacing.congestionControl(serverFd), "the server's side keeps the system's");
        }
    }

    @Test
    void aConnectionWaitsInTheKernelOnPlatformThreadsOverABlockingSocket() throws Exception {
        try (FakeServer fake = keepingItsEnd()) {
            BlockDevice nbd0 = connect(fake);
            MemorySegment data = MemorySegment.ofArray(new byte[4096]).fill((byte) 0x5a);
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(8, data)));
            MemorySegment back = MemorySegment.ofArray(new byte[4096]);
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.read(8, back)));
            assertEquals(-1, data.mismatch(back));

            SocketChannel server = served.get(Io.LIMIT.toSeconds(), TimeUnit.SECONDS);
            int driverFd = SocketDescriptor.find(server.getRemoteAddress(), server.getLocalAddress());
            assertTrue(driverFd >= 0, "the driver's end found");
            assertEquals(0, fileStatusFlags(driverFd) & O_NONBLOCK, "blocking again after the handshake's virtual thread");
            // Virtual threads are not among these: the sender and receiver are platform threads.
            Set<String> platform = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).collect(Collectors.toSet());
            assertTrue(platform.containsAll(Set.of("nbd0 connection 0 send", "nbd0 connection 0 receive")), platform.toString());
        }
    }

    private static final int O_NONBLOCK = 04000;

    /** A descriptor's file status flags (/proc/self/fdinfo, octal). */
    private static int fileStatusFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo", Integer.toString(fd)))) {
            if (line.startsWith("flags:")) return Integer.parseInt(line.substring(6).trim(), 8);
        }
        throw new IOException("no flags for descriptor " + fd);
    }
}
