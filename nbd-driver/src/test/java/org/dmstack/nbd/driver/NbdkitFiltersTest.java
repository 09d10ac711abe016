package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;

/**
 * The driver against nbdkit 1.32 with the filters and options users test NBD clients with:
 * block size constraints (blocksize-policy), odd and huge sizes, injected errors (error), missing
 * capabilities (nozero), TLS, a connection limit (limit) and a server that exits with its last
 * client (exitlast).
 */
class NbdkitFiltersTest extends DriverFixture {
    private BlockDevice serve(String name, String... nbdkitArgs) throws Exception {
        Path sock = tmp.resolve(name + ".sock");
        peers.nbdkit(sock, nbdkitArgs);
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withName(name));
        return Io.await(registry, name);
    }

    @Test
    void nbdInfoBlockSizeBecomesTheQueueLimitsAndBiosAreSplitAndAlignedToIt() throws Exception {
        // blocksize-error-policy=error: nbdkit answers EINVAL to any request that breaks its constraints
        BlockDevice large = serve("nbd0", "--filter=blocksize-policy", "memory", "4M", "blocksize-minimum=4096", "blocksize-preferred=65536",
                "blocksize-maximum=1M", "blocksize-error-policy=error");
        assertEquals("4096", large.attributes().read("queue/logical_block_size"));
        assertEquals("4096", large.attributes().read("queue/physical_block_size"));
        assertEquals("65536", large.attributes().read("queue/optimal_io_size"));
        assertEquals("1024", large.attributes().read("queue/max_sectors_kb"));
        assertEquals(BlkStatus.inval("nbd0: WRITE at sector 1 of 4096 bytes is not aligned to the logical block size 4096"),
                Io.submit(large, Bio.write(1, MemorySegment.ofArray(new byte[4096]))));
        byte[] data = Io.pattern(5 << 19, 4); // 2.5 MiB: three requests of at most 1 MiB
        assertEquals(BlkStatus.OK, Io.submit(large, Bio.write(8, MemorySegment.ofArray(data), BioFlag.FUA)));
        assertArrayEquals(data, Io.read(large, 8, data.length));

        BlockDevice small = serve("nbd1", "--filter=blocksize-policy", "memory", "1M", "blocksize-minimum=512", "blocksize-preferred=512",
                "blocksize-maximum=1024", "blocksize-error-policy=error");
        assertEquals("512", small.attributes().read("queue/physical_block_size"));
        assertEquals("1", small.attributes().read("queue/max_sectors_kb"));
        byte[] more = Io.pattern(65536, 5); // 64 requests of 1 KiB
        assertEquals(BlkStatus.OK, Io.submit(small, Bio.write(3, MemorySegment.ofArray(more))));
        assertArrayEquals(more, Io.read(small, 3, more.length));
        assertEquals(BlkStatus.OK, Io.submit(small, Bio.writeZeroes(3, 8192)));
        assertArrayEquals(new byte[8192], Io.read(small, 3, 8192));

        Path sock = tmp.resolve("huge.sock");
        peers.nbdkit(sock, "--filter=blocksize-policy", "memory", "1M", "blocksize-minimum=8192", "blocksize-preferred=8192");
        NbdDevice refused = nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withName("nbd2"));
        assertEquals("export '' has a minimum block size of 8192 bytes; a block device's logical block size can be at most 4096",
                Io.awaitLastError(refused));
    }

    /** Linux's nbd_set_size: the capacity is the size in whole 512-byte sectors (here, in whole logical blocks). */
    @Test
    void sizesThatAreNotWholeBlocksAreRoundedDownAndSizesAbove4GiBWork() throws Exception {
        assertEquals(1, serve("nbd0", "memory", "1000").capacity());
        BlockDevice odd = serve("nbd1", "memory", "5000");
        assertEquals(9, odd.capacity());
        byte[] last = Io.pattern(512, 6);
        assertEquals(BlkStatus.OK, Io.submit(odd, Bio.write(8, MemorySegment.ofArray(last))));
        assertArrayEquals(last, Io.read(odd, 8, 512));
        assertEquals(256, serve("nbd2", "--filter=blocksize-policy", "memory", Long.toString((1 << 20) + 512), "blocksize-minimum=4096").capacity() >> 3,
                "1 MiB + 512 with 4096-byte blocks: 256 blocks");

        BlockDevice big = serve("nbd3", "memory", "8G");
        assertEquals(8L << 30 >> 9, big.capacity());
        long above4G = (5L << 30) >> 9;
        assertEquals(BlkStatus.OK, Io.submit(big, Bio.write(above4G, MemorySegment.ofArray(last))));
        assertArrayEquals(last, Io.read(big, above4G, 512));
        assertArrayEquals(new byte[512], Io.read(big, above4G - ((4L << 30) >> 9), 512), "not wrapped at 4 GiB");

        BlockDevice largest = serve("nbd4", "memory", Long.toString(Long.MAX_VALUE)); // 2^63 - 1 bytes, the protocol's largest
        assertEquals(Long.MAX_VALUE >> 9, largest.capacity());
        assertEquals(BlkStatus.OK, Io.submit(largest, Bio.write(largest.capacity() - 1, MemorySegment.ofArray(last))));
        assertArrayEquals(last, Io.read(largest, largest.capacity() - 1, 512));
    }

    @Test
    void injectedErrorsReachTheBioWithTheServersErrnoAndTheConnectionStays() throws Exception {
        BlockDevice d = serve("nbd0", "--filter=error", "memory", "1M", "error=ENOSPC", "error-pread-rate=100%");
        assertEquals(BlkStatus.ioerr("nbd0: server replied ENOSPC (No space left on device) to NBD_CMD_READ at offset 0 length 8192"),
                Io.submit(d, Bio.read(0, MemorySegment.ofArray(new byte[8192]))));
        BlockDevice e = serve("nbd1", "--filter=error", "memory", "1M", "error=EPERM", "error-trim-rate=100%", "error-zero-rate=100%");
        assertEquals(BlkStatus.ioerr("nbd1: server replied EPERM (Operation not permitted) to NBD_CMD_TRIM at offset 0 length 4096"),
                Io.submit(e, Bio.discard(0, 4096)));
        assertEquals(BlkStatus.ioerr("nbd1: server replied EPERM (Operation not permitted) to NBD_CMD_WRITE_ZEROES at offset 4096 length 4096"),
                Io.submit(e, Bio.writeZeroes(8, 4096)));
        assertEquals(BlkStatus.OK, Io.submit(e, Bio.write(0, MemorySegment.ofArray(new byte[4096]))), "writes are not filtered");
        assertEquals(2, nbd.device("nbd0").connections() + nbd.device("nbd1").connections(), "an error reply is an answer");

        BlockDevice noZero = serve("nbd2", "--filter=nozero", "memory", "1M");
        assertEquals("flush fua trim multi-conn", noZero.attributes().read("nbd/flags"));
        assertEquals(BlkStatus.Code.NOTSUPP, Io.submit(noZero, Bio.writeZeroes(0, 4096)).code());
    }

    @Test
    void aServerThatRequiresTlsIsRefusedInWordsAndOneThatOffersItIsUsedWithout() throws Exception {
        Path psk = tmp.resolve("keys.psk");
        Files.writeString(psk, "alice:" + HexFormat.of().formatHex(Io.pattern(32, 1)) + "\n");
        Path required = tmp.resolve("required.sock");
        peers.nbdkit(required, "--tls=require", "--tls-psk=" + psk, "memory", "1M");
        NbdDevice refused = nbd.add(NbdDeviceConfig.of(Peers.unixUri(required)));
        assertEquals("the server refused export '': NBD_REP_ERR_TLS_REQD (the server requires TLS, which dmstack does not speak)",
                Io.awaitLastError(refused));
        assertEquals(null, refused.device());

        BlockDevice offered = serve("nbd1", "--tls=on", "--tls-psk=" + psk, "memory", "1M"); // nbd:// is opportunistic TLS (doc/uri.md)
        assertEquals(BlkStatus.OK, Io.submit(offered, Bio.write(0, MemorySegment.ofArray(new byte[512]))));
    }

    @Test
    void aServerLimitedToOneClientServesOnOneConnectionOfTheFourConfiguredAndIsNotAskedAgain() throws Exception {
        Path sock = tmp.resolve("limit.sock");
        peers.nbdkit(sock, "--filter=limit", "memory", "1M", "limit=1");
        NbdDevice d = nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withConnections(4));
        BlockDevice dev = Io.await(registry, "nbd0");
        assertEquals("the server closed the connection", Io.awaitLastError(d), "nbdkit's limit filter hangs up on the second");
        byte[] data = Io.pattern(65536, 8);
        assertEquals(BlkStatus.OK, Io.submit(dev, Bio.write(0, MemorySegment.ofArray(data))));
        assertArrayEquals(data, Io.read(dev, 0, data.length));
        assertEquals(1, d.connections());
        Thread.sleep(1000); // room for the retries a full server must not get (without the rule, the first comes after 50 ms)
        String log = Files.readString(tmp.resolve("limit.sock.log"));
        assertEquals(1, log.split("connection rejected", -1).length - 1, "asked once, then the server's word is taken:\n" + log);
    }

    @Test
    void removingTheDeviceClosesEveryConnectionSoAServerWithExitlastExits() throws Exception {
        Path sock = tmp.resolve("exitlast.sock");
        Process server = peers.nbdkit(sock, "--filter=exitlast", "memory", "1M");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withConnections(4));
        Io.await(registry, "nbd0");
        MultiConnTest.awaitConnections(nbd.device("nbd0"), 4);
        assertEquals(4, nbd.device("nbd0").connections());
        nbd.remove("nbd0");
        assertTrue(server.waitFor(Io.LIMIT.toSeconds(), TimeUnit.SECONDS), "nbdkit still has a client");
        assertEquals(0, server.exitValue());
    }
}
