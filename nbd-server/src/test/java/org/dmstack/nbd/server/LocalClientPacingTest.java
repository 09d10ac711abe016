package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.socket.LocalPacing;
import org.dmstack.nbd.socket.SocketDescriptor;
import org.junit.jupiter.api.Test;

/** The server's use of {@link LocalPacing}; the mechanism's own tests are nbd-protocol's. */
class LocalClientPacingTest {
    @Test
    void theServerTakesPacingOffItsSideOfALocalClientsConnection() throws Exception {
        String system = LocalPacing.systemDefault();
        assumeTrue(LocalPacing.paces(system), "the system's congestion control (" + system + ") does not pace: nothing to take off");
        MemBackend mem = new MemBackend("mem", 1 << 20);
        try (NbdServer server = NbdServer.builder().device("mem", mem, false).port(0).start();
                RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_READ, 1, 0, 4096, null);
            assertEquals(0, c.reply().error()); // in transmission

            int served = SocketDescriptor.find(c.socket.getRemoteSocketAddress(), c.socket.getLocalSocketAddress());
            int client = SocketDescriptor.find(c.socket.getLocalSocketAddress(), c.socket.getRemoteSocketAddress());
            assertTrue(served >= 0 && client >= 0, "both ends found");
            assertFalse(LocalPacing.paces(LocalPacing.congestionControl(served)), "the server's side paces no longer");
            assertEquals(system, LocalPacing.congestionControl(client), "the client's side keeps the system's");
        }
    }
}
