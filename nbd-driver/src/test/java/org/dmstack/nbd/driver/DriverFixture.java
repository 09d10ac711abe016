package org.dmstack.nbd.driver;

import java.nio.file.Path;
import org.dmstack.block.BlockDeviceRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** A driver over its own registry, the servers a test starts, and a folder for their sockets. */
abstract class DriverFixture {
    @TempDir
    Path tmp;

    final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    final NbdDriver nbd = new NbdDriver(registry);
    final Peers peers = new Peers();

    @AfterEach
    void stop() throws Exception {
        nbd.close();
        peers.close();
    }
}
