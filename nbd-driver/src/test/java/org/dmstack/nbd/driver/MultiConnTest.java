package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;

/**
 * Several connections per export when the server allows them (NBD_FLAG_CAN_MULTI_CONN), one when
 * it does not. nbdkit's log filter says which connection carried each request.
 */
class MultiConnTest extends DriverFixture {
    private static final Pattern WRITE = Pattern.compile("connection=(\\d+) Write ");

    @Test
    void withTheServerAllowingItRequestsSpreadAcrossTheConnections() throws Exception {
        Path log = tmp.resolve("requests.log");
        Path sock = tmp.resolve("multi.sock");
        peers.nbdkit(sock, "--filter=log", "memory", "16M", "logfile=" + log);
        Map<Integer, Integer> writes = writeSixteenBlocks(sock, log);
        NbdDevice nbd0 = nbd.device("nbd0");
        assertEquals(4, nbd0.connections());
        assertEquals("4", nbd0.device().attributes().read("nbd/connections"));
        assertTrue(nbd0.device().attributes().read("nbd/flags").contains("multi-conn"));
        assertEquals(4, writes.size(), "writes per connection: " + writes);
        assertEquals(List.of(4, 4, 4, 4), List.copyOf(writes.values()), "round robin: " + writes);
    }

    @Test
    void withTheServerRefusingItOneConnection() throws Exception {
        Path log = tmp.resolve("requests.log");
        Path sock = tmp.resolve("single.sock");
        peers.nbdkit(sock, "--filter=multi-conn", "--filter=log", "memory", "16M", "multi-conn-mode=disable", "logfile=" + log);
        Map<Integer, Integer> writes = writeSixteenBlocks(sock, log);
        NbdDevice nbd0 = nbd.device("nbd0");
        assertEquals(1, nbd0.connections());
        assertEquals(1, writes.size(), "writes per connection: " + writes);
        assertEquals(16, writes.values().iterator().next());
    }

    /** Sixteen 4 KiB writes in flight at once from a device configured for four connections. */
    private Map<Integer, Integer> writeSixteenBlocks(Path sock, Path log) throws Exception {
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withConnections(4));
        BlockDevice dev = Io.await(registry, "nbd0");
        awaitConnections(nbd.device("nbd0"), nbd.device("nbd0").config().connections());
        List<Bio> bios = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Bio bio = Bio.write(i * 8L, MemorySegment.ofArray(Io.pattern(4096, i)));
            bios.add(bio);
            dev.submit(bio);
        }
        for (Bio bio : bios) assertEquals(BlkStatus.OK, Io.await(bio));
        Map<Integer, Integer> perConnection = new TreeMap<>();
        Matcher m = WRITE.matcher(Files.readString(log));
        while (m.find()) perConnection.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
        return perConnection;
    }

    /** Connections open one after another; the test waits for those the server allows. */
    static void awaitConnections(NbdDevice device, int wanted) throws InterruptedException {
        long limit = System.nanoTime() + Io.LIMIT.toNanos();
        while (device.connections() < wanted && System.nanoTime() < limit) {
            if (device.connections() == 1 && !device.device().attributes().read("nbd/flags").contains("multi-conn")) return;
            Thread.sleep(5);
        }
    }
}
