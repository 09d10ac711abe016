package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A registry with three devices and a server on an ephemeral loopback port:
 * <ul>
 *   <li>ram0 (1:0), 4 MiB, no write cache, max_sectors 2560 — exported as "disk" and as "ro" (read-only);
 *   <li>pmem0 (259:0), 1 MiB, write cache with FUA, 512/4096 — exported as "pmem";
 *   <li>wc0 (259:1), 1 MiB, write cache without FUA, 4096-byte logical blocks — exported as "wc".
 * </ul>
 */
abstract class ServerFixture {
    static final long RAM_SIZE = 4 << 20;
    final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    MemDisk ram;
    MemDisk pmem;
    MemDisk wc;
    NbdServer server;

    @BeforeEach
    void startServer() throws IOException {
        ram = MemDisk.of("ram0", 0, RAM_SIZE);
        pmem = new MemDisk(1 << 20);
        pmem.device("pmem0", new DevT(DevT.BLOCK_EXT_MAJOR, 0), true, true, QueueLimits.of(512, 4096));
        wc = new MemDisk(1 << 20);
        wc.device("wc0", new DevT(DevT.BLOCK_EXT_MAJOR, 1), true, false, QueueLimits.of(4096, 4096).setMaxSectors(64));
        registry.add(ram.disk);
        registry.add(pmem.disk);
        registry.add(wc.disk);
        server = NbdServer.builder().backends(new BlockBackends(registry)).port(0)
                .export("disk=ram0").export("ro=ram0:ro").export("pmem=259:0").export("wc=/dev/wc0").start();
    }

    @AfterEach
    void stopServer() {
        if (server != null) server.close();
    }

    int port() {
        return server.port();
    }

    static byte[] pattern(int length, long seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A new client can still open "disk", write and read back: the server carries on. */
    void assertServerStillServes() throws IOException {
        try (RawClient c = RawClient.open(port(), "disk")) {
            byte[] data = pattern(4096, 99);
            assertEquals(0, c.write(1, RAM_SIZE - 4096, data).error());
            RawClient.Reply r = c.read(2, RAM_SIZE - 4096, 4096);
            assertEquals(0, r.error());
            assertArrayEquals(data, r.data());
            c.disconnect();
        }
    }

    /** The bytes of a device's memory at a sector. */
    static byte[] bytesAt(MemDisk disk, long sector, int length) {
        byte[] b = new byte[length];
        MemorySegment.copy(disk.memory, ValueLayout.JAVA_BYTE, sector * 512, b, 0, length);
        return b;
    }
}
