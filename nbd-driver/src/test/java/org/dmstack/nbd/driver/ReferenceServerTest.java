package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The driver against the reference implementation, nbd-server 3.24 (Debian's nbd-server), one
 * export per option it offers. It speaks fixed newstyle with simple replies only (it refuses
 * NBD_OPT_STRUCTURED_REPLY), answers NBD_OPT_GO without NBD_INFO_BLOCK_SIZE, and forks a process
 * per connection.
 */
class ReferenceServerTest extends DriverFixture {
    private static final int SIZE = 8 << 20;

    private Path config;
    private int port;

    @BeforeEach
    void files() throws Exception {
        for (String name : new String[] {"plain", "ro", "cow"}) {
            try (RandomAccessFile f = new RandomAccessFile(tmp.resolve(name + ".img").toFile(), "rw")) {
                f.setLength(SIZE);
            }
        }
        Files.writeString(tmp.resolve("authfile"), "192.0.2.1\n"); // a host that is not us
        port = Peers.freePort();
        config = tmp.resolve("nbd-server.conf");
        Files.writeString(config, """
                [generic]
                    port = %d
                    listenaddr = 127.0.0.1
                    allowlist = true
                [plain]
                    exportname = %s/plain.img
                    flush = true
                    fua = true
                    trim = true
                [ro]
                    exportname = %s/ro.img
                    readonly = true
                [cow]
                    exportname = %s/cow.img
                    copyonwrite = true
                [one]
                    exportname = %s/plain.img
                    maxconnections = 1
                [guarded]
                    exportname = %s/plain.img
                    authfile = %s/authfile
                """.formatted(port, tmp, tmp, tmp, tmp, tmp, tmp));
        peers.nbdServer(config, port);
    }

    private String uri(String export) {
        return "nbd://127.0.0.1:" + port + "/" + export;
    }

    @Test
    void eachOptionOfAnExportBecomesTheDevicesFlagsAndDataIsByteExactInTheFile() throws Exception {
        nbd.add(NbdDeviceConfig.of(uri("plain")).withConnections(4));
        BlockDevice plain = Io.await(registry, "nbd0");
        assertEquals(SIZE >> 9, plain.capacity());
        assertEquals("flush fua trim write-zeroes multi-conn", plain.attributes().read("nbd/flags"));
        assertEquals("write back", plain.attributes().read("queue/write_cache"));
        assertEquals("1", plain.attributes().read("queue/fua"));
        // No NBD_INFO_BLOCK_SIZE from 3.24: what doc/proto.md advises a client to assume then.
        assertEquals("512", plain.attributes().read("queue/logical_block_size"));
        assertEquals("32768", plain.attributes().read("queue/max_sectors_kb"));
        byte[] data = Io.pattern(3 << 20, 5); // more than one request: simple replies carry it all
        assertEquals(BlkStatus.OK, Io.submit(plain, Bio.write(8, MemorySegment.ofArray(data), BioFlag.PREFLUSH, BioFlag.FUA)));
        assertArrayEquals(data, Io.read(plain, 8, data.length));
        assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(tmp.resolve("plain.img")), 4096, 4096 + data.length), "nbd-server wrote the file");
        assertEquals(BlkStatus.OK, Io.submit(plain, Bio.flush()));
        assertEquals(BlkStatus.OK, Io.submit(plain, Bio.discard(8, 4096)));
        assertEquals(BlkStatus.OK, Io.submit(plain, Bio.writeZeroes(16, 8192)));
        assertArrayEquals(new byte[8192], Io.read(plain, 16, 8192));
        MultiConnTest.awaitConnections(nbd.device("nbd0"), 4);
        assertEquals(4, nbd.device("nbd0").connections(), "nbd-server says NBD_FLAG_CAN_MULTI_CONN");

        nbd.add(NbdDeviceConfig.of(uri("ro")));
        BlockDevice ro = Io.await(registry, "nbd1");
        assertEquals("read-only write-zeroes multi-conn", ro.attributes().read("nbd/flags"));
        assertEquals("1", ro.attributes().read("ro"));
        assertEquals("write through", ro.attributes().read("queue/write_cache"), "no flush = true: no NBD_FLAG_SEND_FLUSH");
        assertEquals(BlkStatus.ioerr("nbd1: Write on read-only"), Io.submit(ro, Bio.write(0, MemorySegment.ofArray(new byte[512]))));
        assertEquals(BlkStatus.Code.NOTSUPP, Io.submit(ro, Bio.discard(0, 4096)).code(), "no trim = true: no NBD_FLAG_SEND_TRIM");

        nbd.add(NbdDeviceConfig.of(uri("cow")));
        BlockDevice cow = Io.await(registry, "nbd2");
        assertEquals("write-zeroes", cow.attributes().read("nbd/flags"), "a copy-on-write export is private to its connection: no multi-conn");
        byte[] mine = Io.pattern(65536, 9);
        assertEquals(BlkStatus.OK, Io.submit(cow, Bio.write(128, MemorySegment.ofArray(mine))));
        assertArrayEquals(mine, Io.read(cow, 128, mine.length));
        assertArrayEquals(new byte[SIZE], Files.readAllBytes(tmp.resolve("cow.img")), "copyonwrite leaves the file as it was");
    }

    @Test
    void aServerThatTakesOneConnectionGetsOneAndSaysWhyNotMore() throws Exception {
        nbd.add(NbdDeviceConfig.of(uri("one")).withConnections(4));
        BlockDevice one = Io.await(registry, "nbd0");
        assertEquals("the server refused export 'one': NBD_REP_ERR_POLICY (the server refuses this client): Access denied by server configuration",
                Io.awaitLastError(nbd.device("nbd0")));
        assertEquals(1, nbd.device("nbd0").connections());
        byte[] data = Io.pattern(8192, 2);
        assertEquals(BlkStatus.OK, Io.submit(one, Bio.write(0, MemorySegment.ofArray(data))));
        assertArrayEquals(data, Io.read(one, 0, data.length), "the one connection serves");
    }

    @Test
    void refusedClientsAndUnknownExportsGetNoDeviceAndTheServersWords() throws Exception {
        NbdDevice guarded = nbd.add(NbdDeviceConfig.of(uri("guarded")));
        assertEquals("the server refused export 'guarded': NBD_REP_ERR_POLICY (the server refuses this client): Access denied by server configuration",
                Io.awaitLastError(guarded));
        NbdDevice unknown = nbd.add(NbdDeviceConfig.of(uri("nosuch")));
        assertEquals("the server refused export 'nosuch': NBD_REP_ERR_UNKNOWN (no such export): Export unknown", Io.awaitLastError(unknown));
        assertEquals(null, guarded.device());
        assertEquals(null, unknown.device());
    }

    /** nbd-server stopped (SIGTERM: its connections' processes end too) and started again on the same port. */
    @Test
    void aRestartedServerIsReconnectedAndNoAcknowledgedWriteIsLost() throws Exception {
        nbd.add(NbdDeviceConfig.of(uri("plain")));
        BlockDevice plain = Io.await(registry, "nbd0");
        byte[] before = Io.pattern(65536, 1);
        assertEquals(BlkStatus.OK, Io.submit(plain, Bio.write(0, MemorySegment.ofArray(before), BioFlag.FUA)));

        Peers.stopNbdServer(config);
        Bio during = Bio.write(128, MemorySegment.ofArray(Io.pattern(65536, 2)), BioFlag.FUA);
        plain.submit(during); // waits for a connection
        peers.nbdServer(config, port);
        assertEquals(BlkStatus.OK, Io.await(during));

        byte[] file = Files.readAllBytes(tmp.resolve("plain.img"));
        assertArrayEquals(before, Arrays.copyOfRange(file, 0, 65536));
        assertArrayEquals(Io.pattern(65536, 2), Arrays.copyOfRange(file, 65536, 131072));
        assertArrayEquals(before, Io.read(plain, 0, 65536));
        assertFalse(nbd.device("nbd0").lastError().isEmpty(), "the outage was seen");
        assertTrue(nbd.device("nbd0").connections() >= 1);
    }
}
