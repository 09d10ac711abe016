package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.nbd.socket.LocalPacing;
import org.dmstack.nbd.socket.SocketDescriptor;
import org.junit.jupiter.api.Test;

/** The driver's use of {@link LocalPacing}; the mechanism's own tests are nbd-protocol's. */
class LocalServerPacingTest extends DriverFixture {
    @Test
    void theDriverTakesPacingOffItsSideOfAConnectionToALocalServer() throws Exception {
        String system = LocalPacing.systemDefault();
        assumeTrue(LocalPacing.paces(system), "the system's congestion control (" + system + ") does not pace: nothing to take off");
        CompletableFuture<SocketChannel> served = new CompletableFuture<>();
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            served.complete(ch);
            FakeServer.serveCorrectly(ch, disk);
        })) {
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(0, MemorySegment.ofArray(new byte[4096])))); // in transmission

            SocketChannel server = served.get(Io.LIMIT.toSeconds(), TimeUnit.SECONDS);
            int serverFd = SocketDescriptor.find(server);
            int driverFd = SocketDescriptor.find(server.getRemoteAddress(), server.getLocalAddress());
            assertTrue(serverFd >= 0 && driverFd >= 0, "both ends found");
            assertFalse(LocalPacing.paces(LocalPacing.congestionControl(driverFd)), "the driver's side paces no longer");
            assertEquals(system, LocalPacing.congestionControl(serverFd), "the server's side keeps the system's");
        }
    }
}
