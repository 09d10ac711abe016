package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.stripe.StripedTargetType;
import org.junit.jupiter.api.Test;

/** The driver against real servers: nbdkit's memory plugin and qemu-nbd on a file. */
class RealServersTest extends DriverFixture {
    @Test
    void nbdkitMemoryReadsAndWritesByteExactWithBiosSplitAtTheServersMaximumBlockSize() throws Exception {
        Path sock = tmp.resolve("nbdkit.sock");
        peers.nbdkit(sock, "--filter=blocksize-policy", "memory", "16M", "blocksize-minimum=512", "blocksize-preferred=4096",
                "blocksize-maximum=65536");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)));
        BlockDevice nbd0 = Io.await(registry, "nbd0");
        assertEquals("43:0", nbd0.devt().toString());
        assertEquals(16L << 20 >> 9, nbd0.capacity());
        assertEquals("512", nbd0.attributes().read("queue/logical_block_size"));
        assertEquals("4096", nbd0.attributes().read("queue/physical_block_size"));
        assertEquals("64", nbd0.attributes().read("queue/max_sectors_kb"));
        assertEquals("write back", nbd0.attributes().read("queue/write_cache"), "nbdkit's memory plugin takes NBD_CMD_FLUSH");
        assertEquals("0", nbd0.attributes().read("ro"));

        byte[] data = Io.pattern(1 << 20, 7); // 16 requests of 64 KiB
        assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(2048, MemorySegment.ofArray(data), BioFlag.FUA)));
        assertArrayEquals(data, Io.read(nbd0, 2048, data.length));
        assertArrayEquals(new byte[4096], Io.read(nbd0, 0, 4096), "never written: zeros");

        byte[] export = Peers.nbdcopy(Peers.unixUri(sock), tmp);
        assertArrayEquals(data, Arrays.copyOfRange(export, 2048 * 512, 2048 * 512 + data.length), "nbdcopy finds the data where it was written");
        assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.flush()));
        assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.discard(2048, 4096)));
        assertArrayEquals(new byte[4096], Io.read(nbd0, 2048, 4096), "nbdkit's memory plugin reads trimmed blocks as zeros");
    }

    @Test
    void qemuNbdOnAFileReadsAndWritesByteExact() throws Exception {
        Path file = tmp.resolve("disk.img");
        Files.write(file, new byte[8 << 20]);
        Path sock = tmp.resolve("qemu.sock");
        peers.qemuNbd(sock, file, 4);
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withName("nbd3"));
        BlockDevice nbd3 = Io.await(registry, "nbd3");
        assertEquals("43:96", nbd3.devt().toString());
        assertEquals(8L << 20 >> 9, nbd3.capacity());

        byte[] data = Io.pattern(192 << 10, 3);
        assertEquals(BlkStatus.OK, Io.submit(nbd3, Bio.write(100, MemorySegment.ofArray(data), BioFlag.PREFLUSH, BioFlag.FUA)));
        assertArrayEquals(data, Io.read(nbd3, 100, data.length));
        assertArrayEquals(data, Arrays.copyOfRange(Files.readAllBytes(file), 100 * 512, 100 * 512 + data.length), "qemu-nbd wrote the file");
        Io.submit(nbd3, Bio.write(0, MemorySegment.ofArray(filled(65536, 0x5a))));
        String out = Peers.run(Peers.require("qemu-io", "qemu-utils"), "-f", "raw", "-r", "-c", "read -P 0x5a 0 64k", Peers.unixUri(sock));
        assertTrue(out.contains("read 65536/65536 bytes at offset 0"), out);
        assertFalse(out.contains("Pattern verification failed"), out);
    }

    @Test
    void aStripedTableOverNbdkitAndQemuNbdPutsEachChunkOnTheServerStripingSays() throws Exception {
        Path kitSock = tmp.resolve("kit.sock");
        peers.nbdkit(kitSock, "memory", "4M");
        Path file = tmp.resolve("qemu.img");
        Files.write(file, new byte[4 << 20]);
        Path qemuSock = tmp.resolve("qemu.sock");
        peers.qemuNbd(qemuSock, file, 4);
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(kitSock)));
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(qemuSock)));
        Io.await(registry, "nbd0");
        Io.await(registry, "nbd1");
        DeviceMapper dm = new DeviceMapper(registry);
        dm.targetTypes().register(new StripedTargetType());
        try {
            BlockDevice striped = dm.create("remote", "0 16384 striped 2 128 nbd0 0 nbd1 0").disk();
            byte[] data = Io.pattern(4 * 65536, 11); // chunks 0 and 2 on nbd0, 1 and 3 on nbd1
            assertEquals(BlkStatus.OK, Io.submit(striped, Bio.write(0, MemorySegment.ofArray(data), BioFlag.FUA)));
            assertArrayEquals(data, Io.read(striped, 0, data.length));

            byte[] kit = Peers.nbdcopy(Peers.unixUri(kitSock), tmp);
            assertArrayEquals(Arrays.copyOfRange(data, 0, 65536), Arrays.copyOfRange(kit, 0, 65536));
            assertArrayEquals(Arrays.copyOfRange(data, 2 * 65536, 3 * 65536), Arrays.copyOfRange(kit, 65536, 2 * 65536));
            byte[] qemu = Peers.nbdcopy(Peers.unixUri(qemuSock), tmp);
            assertArrayEquals(Arrays.copyOfRange(data, 65536, 2 * 65536), Arrays.copyOfRange(qemu, 0, 65536));
            assertArrayEquals(Arrays.copyOfRange(data, 3 * 65536, 4 * 65536), Arrays.copyOfRange(qemu, 65536, 2 * 65536));
        } finally {
            dm.close();
        }
    }

    @Test
    void aReadOnlyExportRefusesWritesAsLinuxDoes() throws Exception {
        Path sock = tmp.resolve("ro.sock");
        peers.nbdkit(sock, "--readonly", "memory", "1M");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)));
        BlockDevice nbd0 = Io.await(registry, "nbd0");
        assertEquals("1", nbd0.attributes().read("ro"));
        BlkStatus s = Io.submit(nbd0, Bio.write(0, MemorySegment.ofArray(new byte[512])));
        assertEquals(BlkStatus.ioerr("nbd0: Write on read-only"), s);
        assertArrayEquals(new byte[512], Io.read(nbd0, 0, 512));
    }

    @Test
    void serverErrorsArePassedUpWithTheErrnoTheServerSent() throws Exception {
        Path full = tmp.resolve("full.sock");
        peers.nbdkit(full, "full", "1M");
        Path perm = tmp.resolve("perm.sock");
        peers.nbdkit(perm, "--filter=error", "memory", "1M", "error=EPERM", "error-pwrite-rate=100%");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(full)));
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(perm)));
        BlockDevice nbd0 = Io.await(registry, "nbd0");
        BlockDevice nbd1 = Io.await(registry, "nbd1");
        BlkStatus nospc = Io.submit(nbd0, Bio.write(8, MemorySegment.ofArray(new byte[4096])));
        assertEquals(BlkStatus.Code.IOERR, nospc.code());
        assertTrue(nospc.message().startsWith("nbd0: server replied ENOSPC (No space left on device) to NBD_CMD_WRITE at offset 4096 length 4096"),
                nospc.message());
        BlkStatus eperm = Io.submit(nbd1, Bio.write(0, MemorySegment.ofArray(new byte[512])));
        assertEquals(BlkStatus.Code.IOERR, eperm.code());
        assertTrue(eperm.message().startsWith("nbd1: server replied EPERM (Operation not permitted) to NBD_CMD_WRITE at offset 0 length 512"),
                eperm.message());
        assertEquals(2, nbd.devices().stream().mapToInt(NbdDevice::connections).sum(), "an error reply is an answer, not a broken connection");
    }

    @Test
    void qemuNbdWithANamedExportSharedByTwoAndReadOnly() throws Exception {
        Path file = tmp.resolve("named.img");
        byte[] data = Io.pattern(1 << 20, 21);
        Files.write(file, data);
        Path sock = tmp.resolve("named.sock");
        peers.qemuNbd(sock, file, 2, "-x", "my disk", "--allocation-depth");
        NbdDevice wrong = nbd.add(NbdDeviceConfig.of("nbd+unix:///nope?socket=" + sock).withName("nbd9"));
        assertEquals("the server refused export 'nope': NBD_REP_ERR_UNKNOWN (no such export): export 'nope' not present", Io.awaitLastError(wrong));
        nbd.remove("nbd9");

        nbd.add(NbdDeviceConfig.of("nbd+unix:///my%20disk?socket=" + sock).withConnections(4));
        BlockDevice shared = Io.await(registry, "nbd0");
        MultiConnTest.awaitConnections(nbd.device("nbd0"), 2);
        assertEquals(2, nbd.device("nbd0").connections(), "--shared=2: qemu-nbd takes no third client");
        assertArrayEquals(data, Io.read(shared, 0, data.length), "data chunks from a file with no holes, byte-exact");

        Path roSock = tmp.resolve("ro.sock");
        peers.qemuNbd(roSock, file, 1, "-r");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(roSock)));
        BlockDevice ro = Io.await(registry, "nbd1");
        assertEquals("read-only flush fua", ro.attributes().read("nbd/flags"));
        assertEquals(BlkStatus.ioerr("nbd1: Write on read-only"), Io.submit(ro, Bio.write(0, MemorySegment.ofArray(new byte[512]))));
        assertArrayEquals(data, Io.read(ro, 0, data.length));
    }

    @Test
    void qemuNbdAnswersReadsOfASparseFileInDataAndHoleChunksAndTheyReassembleByteExact() throws Exception {
        Path file = tmp.resolve("sparse.img");
        byte[] data = Io.pattern(64 << 10, 11);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(4 << 20);
            f.seek(1 << 20);
            f.write(data); // data at 1 MiB, holes around it
        }
        Path sock = tmp.resolve("sparse.sock");
        peers.qemuNbd(sock, file, 1);
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)));
        BlockDevice nbd0 = Io.await(registry, "nbd0");
        byte[] expected = new byte[1 << 20];
        System.arraycopy(data, 0, expected, 512 << 10, data.length);
        byte[] buffer = filled(1 << 20, 0x55); // 512 KiB of hole, the data, then hole again: three chunks
        assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.read((512 << 10) >> 9, MemorySegment.ofArray(buffer))));
        assertArrayEquals(expected, buffer, "holes read as zeros, data where it was written");
        assertEquals(1, nbd.device("nbd0").connections(), "several chunks per reply are the protocol, not a fault");
    }

    @Test
    void nbdkitInEveryDialectItSpeaks() throws Exception {
        byte[] data = Io.pattern(8192, 13);
        String[][] dialects = {{"--no-sr"}, {"--mask-handshake=0"}}; // simple replies; newstyle that is not fixed, with the 124 zero bytes
        for (int i = 0; i < dialects.length; i++) {
            Path sock = tmp.resolve("dialect" + i + ".sock");
            List<String> args = new ArrayList<>(List.of(dialects[i]));
            args.addAll(List.of("memory", "1M"));
            peers.nbdkit(sock, args.toArray(String[]::new));
            nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withName("nbd" + i));
            BlockDevice d = Io.await(registry, "nbd" + i);
            assertEquals(BlkStatus.OK, Io.submit(d, Bio.write(8, MemorySegment.ofArray(data))), String.join(" ", dialects[i]));
            assertArrayEquals(data, Io.read(d, 8, data.length), String.join(" ", dialects[i]));
        }
        Path old = tmp.resolve("oldstyle.sock");
        peers.nbdkit(old, "--oldstyle", "memory", "1M");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(old)).withName("nbd9"));
        NbdDevice refused = nbd.device("nbd9");
        assertEquals("the server speaks the oldstyle handshake, which dmstack does not support", Io.awaitLastError(refused));
        assertEquals(null, refused.device());
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
