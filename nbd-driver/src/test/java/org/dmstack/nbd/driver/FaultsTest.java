package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;

/** Servers that go away, never come back, or send what the protocol does not allow. */
class FaultsTest extends DriverFixture {
    @Test
    void aServerKilledAndRestartedDuringWritesLosesNoAcknowledgedWriteAndTheWriterSeesNoError() throws Exception {
        Path file = tmp.resolve("disk.img");
        Files.write(file, new byte[16 << 20]);
        Path sock = tmp.resolve("qemu.sock");
        Process server = peers.qemuNbd(sock, file, 4);
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withTimeout(Duration.ofSeconds(30)));
        BlockDevice nbd0 = Io.await(registry, "nbd0");

        // Eight writers, each writing its own 4 KiB blocks in turn, every write verified afterwards.
        int writers = 8, blocksEach = 256;
        AtomicInteger acknowledged = new AtomicInteger();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < blocksEach; i++) {
                    int block = i * writers + writer;
                    BlkStatus s = Io.submit(nbd0, Bio.write(block * 8L, MemorySegment.ofArray(Io.pattern(4096, block)), BioFlag.FUA));
                    if (s.isOk()) acknowledged.incrementAndGet();
                    else errors.add("block " + block + ": " + s);
                }
            }));
        }
        awaitAtLeast(acknowledged, 200);
        Peers.kill(server);
        int atKill = acknowledged.get();
        awaitLost(nbd.device("nbd0"));
        peers.qemuNbd(sock, file, 4);
        for (Thread t : threads) t.join();

        assertEquals(List.of(), List.copyOf(errors), "within the hold time the writers see no error");
        assertEquals(writers * blocksEach, acknowledged.get());
        assertTrue(atKill < writers * blocksEach, "the server was killed while writes were going on");
        byte[] onDisk = Files.readAllBytes(file);
        for (int block = 0; block < writers * blocksEach; block++) {
            byte[] expected = Io.pattern(4096, block);
            assertArrayEquals(expected, Io.read(nbd0, block * 8L, 4096), "block " + block + " read through nbd0");
            assertArrayEquals(expected, Arrays.copyOfRange(onDisk, block * 4096, block * 4096 + 4096), "block " + block + " in the server's file");
        }
    }

    @Test
    void aServerThatNeverComesBackFailsIoWithEioAfterTheTimeout() throws Exception {
        Path sock = tmp.resolve("gone.sock");
        Process server = peers.nbdkit(sock, "memory", "1M");
        nbd.add(NbdDeviceConfig.of(Peers.unixUri(sock)).withTimeout(Duration.ofMillis(300)));
        BlockDevice nbd0 = Io.await(registry, "nbd0");
        assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(0, MemorySegment.ofArray(new byte[512]))));
        Peers.kill(server);
        awaitLost(nbd.device("nbd0"));

        BlkStatus write = Io.submit(nbd0, Bio.write(0, MemorySegment.ofArray(new byte[512])));
        assertEquals(BlkStatus.Code.IOERR, write.code());
        assertTrue(write.message().startsWith("nbd0: no connection to " + Peers.unixUri(sock) + " for 300 ms ("), write.message());
        assertEquals(BlkStatus.Code.IOERR, Io.submit(nbd0, Bio.read(0, MemorySegment.ofArray(new byte[512]))).code());
        assertEquals(BlkStatus.Code.IOERR, Io.submit(nbd0, Bio.flush()).code());
        assertTrue(registry.lookup("nbd0") == nbd0, "the device stays: the server may come back later");
    }

    @Test
    void wrongMagicUnknownHandleAndShortPayloadDropTheConnectionAndNothingIsReturnedAsData() throws Exception {
        byte[] garbage = new byte[4096];
        Arrays.fill(garbage, (byte) 0xee);
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            if (n >= 3) {
                FakeServer.serveCorrectly(ch, disk);
                return;
            }
            FakeServer.Req r = FakeServer.readRequest(ch);
            switch (n) {
                case 0 -> Wire.writeFully(ch, FakeServer.simpleReply(0x12345678, 0, r.handle()), ByteBuffer.wrap(garbage));
                case 1 -> Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, r.handle() + 1000), ByteBuffer.wrap(garbage));
                default -> {
                    Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, r.handle()), ByteBuffer.wrap(garbage, 0, r.length() / 2));
                    ch.shutdownOutput();
                }
            }
            while (ch.read(ByteBuffer.allocate(4096)) >= 0) { } // until the client hangs up
        })) {
            byte[] data = Io.pattern(4096, 5);
            System.arraycopy(data, 0, fake.disk, 8192, 4096);
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertArrayEquals(data, Io.read(nbd0, 16, 4096), "the read was sent again until a connection answered it properly");
            assertEquals(4, fake.connections.get(), "each malformed reply cost its connection");
            assertTrue(nbd.device("nbd0").lastError().startsWith("connection lost: "), nbd.device("nbd0").lastError());
        }
    }

    @Test
    void aServerThatOnlyEverSendsMalformedRepliesFailsTheBioAfterTheTimeoutWithoutItsData() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            FakeServer.Req r = FakeServer.readRequest(ch);
            byte[] garbage = new byte[r.length()];
            Arrays.fill(garbage, (byte) 0xee);
            Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, r.handle() ^ 1), ByteBuffer.wrap(garbage));
            while (ch.read(ByteBuffer.allocate(4096)) >= 0) { }
        })) {
            nbd.add(NbdDeviceConfig.of(fake.uri()).withTimeout(Duration.ofMillis(200)));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            byte[] buffer = new byte[4096];
            BlkStatus s = Io.submit(nbd0, Bio.read(0, MemorySegment.ofArray(buffer)));
            assertEquals(BlkStatus.Code.IOERR, s.code(), s.toString());
            assertTrue(s.message().contains("reply for an unknown handle"), s.message());
            assertArrayEquals(new byte[4096], buffer, "not a byte of the malformed replies reached the bio");
        }
    }

    @Test
    void aServerThatStopsAnsweringLosesTheConnectionAfterTheTimeoutAndTheRequestGoesToTheNextOne() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            if (n >= 1) {
                FakeServer.serveCorrectly(ch, disk);
                return;
            }
            FakeServer.readRequest(ch); // and never a reply, as a frozen server
            while (ch.read(ByteBuffer.allocate(4096)) >= 0) { }
        })) {
            byte[] data = Io.pattern(4096, 8);
            System.arraycopy(data, 0, fake.disk, 0, 4096);
            nbd.add(NbdDeviceConfig.of(fake.uri()).withTimeout(Duration.ofMillis(300)));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertArrayEquals(data, Io.read(nbd0, 0, 4096));
            assertEquals(2, fake.connections.get());
            assertEquals("connection lost: no reply for 300 ms", nbd.device("nbd0").lastError());
        }
    }

    @Test
    void anOldServerWithoutOptGoIsReachedThroughExportName() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, false, FLAG_SEND_FLUSH, (n, ch, disk) -> FakeServer.serveCorrectly(ch, disk))) {
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertEquals(2048, nbd0.capacity());
            assertEquals("write back", nbd0.attributes().read("queue/write_cache"));
            assertEquals("0", nbd0.attributes().read("queue/fua"));
            byte[] data = Io.pattern(8192, 9);
            // FUA without the server's FUA: the write, then a flush.
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(8, MemorySegment.ofArray(data), BioFlag.FUA)));
            assertArrayEquals(data, Arrays.copyOfRange(fake.disk, 4096, 4096 + 8192));
            assertEquals(BlkStatus.Code.NOTSUPP, Io.submit(nbd0, Bio.discard(0, 4096)).code(), "no NBD_FLAG_SEND_TRIM, no discard");
        }
    }

    /** Waits until the device has noticed the server is gone. */
    private static void awaitLost(NbdDevice device) throws InterruptedException {
        long limit = System.nanoTime() + Io.LIMIT.toNanos();
        while (device.connections() > 0) {
            if (System.nanoTime() > limit) throw new AssertionError(device.name() + " did not notice that its server was gone");
            Thread.sleep(5);
        }
    }

    private static void awaitAtLeast(AtomicInteger counter, int n) throws InterruptedException {
        long limit = System.nanoTime() + Io.LIMIT.toNanos();
        while (counter.get() < n) {
            if (System.nanoTime() > limit) throw new AssertionError("only " + counter.get() + " of " + n);
            Thread.sleep(1);
        }
    }
}
