package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Servers that say what the spec forbids: a structured reply that breaks its rules costs its
 * connection (never are its bytes taken for data) and the READ is answered by the next one; what
 * a server says in words reaches the log and the bio's status printable, its numbers as sent.
 */
class HostileServersTest extends DriverFixture {
    /** What the first connection answers to an 8 KiB READ, instead of the truth. */
    interface Lie {
        void tell(SocketChannel ch, FakeServer.Req r, byte[] disk) throws IOException;
    }

    static Stream<Arguments> lies() {
        return Stream.of(
                Arguments.of("the same half twice, so the bytes add up but the second half never came",
                        "overlaps another in the reply to NBD_CMD_READ offset 0 length 8192", (Lie) (ch, r, disk) -> {
                            data(ch, r, 0, 4096, disk, 0);
                            data(ch, r, 0, 4096, disk, 0);
                            Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, r.handle(), 0));
                        }),
                Arguments.of("a hole over data already sent", "overlaps another", (Lie) (ch, r, disk) -> {
                    data(ch, r, 0, 8192, disk, 0);
                    Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_HOLE, r.handle(), 12),
                            ByteBuffer.allocate(12).putLong(4096).putInt(4096).flip());
                }),
                Arguments.of("every other byte, one chunk each, to make the client keep a range per byte",
                        "the reply to NBD_CMD_READ offset 0 length 8192 comes in more than 1024 scattered pieces", (Lie) (ch, r, disk) -> {
                            for (int i = 0; i <= Request.MAX_RANGES; i++) data(ch, r, 2 * i, 1, disk, 0);
                        }),
                Arguments.of("a simple reply to a READ after structured replies were negotiated",
                        "a simple reply to NBD_CMD_READ offset 0 length 8192 although structured replies were negotiated", (Lie) (ch, r, disk) -> {
                            Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, r.handle()), ByteBuffer.wrap(disk, 0, 8192));
                        }),
                Arguments.of("a data chunk with no data", "NBD_REPLY_TYPE_OFFSET_DATA for NBD_CMD_READ offset 0 length 8192 of 8 bytes",
                        (Lie) (ch, r, disk) -> Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, r.handle(), 8),
                                ByteBuffer.allocate(8).putLong(0).flip())),
                Arguments.of("a hole of no bytes", "NBD_REPLY_TYPE_OFFSET_HOLE of 0 bytes", (Lie) (ch, r, disk) -> {
                    Wire.writeFully(ch, FakeServer.chunk(0, REPLY_TYPE_OFFSET_HOLE, r.handle(), 12), ByteBuffer.allocate(12).putLong(0).putInt(0).flip());
                    data(ch, r, 0, 8192, disk, REPLY_FLAG_DONE);
                }),
                Arguments.of("a data chunk longer than the request", "lies outside NBD_CMD_READ offset 0 length 8192", (Lie) (ch, r, disk) -> {
                    Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_OFFSET_DATA, r.handle(), 8 + 8192 + 512),
                            ByteBuffer.allocate(8).putLong(0).flip(), ByteBuffer.allocate(8192 + 512));
                }),
                Arguments.of("data that ends short of the request", "covered 4096 bytes", (Lie) (ch, r, disk) -> data(ch, r, 0, 4096, disk, REPLY_FLAG_DONE)),
                Arguments.of("an error chunk whose message runs past the chunk", "malformed error chunk", (Lie) (ch, r, disk) -> {
                    Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR, r.handle(), 8),
                            ByteBuffer.allocate(8).putInt(EIO).putShort((short) 100).putShort((short) 0).flip());
                }));
    }

    @Test
    void whatAServerSaysIsPassedUpPrintableAndItsErrorNumbersAsTheySent() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            FakeServer.Req read = FakeServer.readRequest(ch);
            byte[] msg = "disk on fire\n12:00:00 INFO all is well".getBytes(StandardCharsets.UTF_8);
            Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR, read.handle(), 6 + msg.length),
                    ByteBuffer.allocate(6 + msg.length).putInt(EIO).putShort((short) msg.length).put(msg).flip());
            FakeServer.Req write = FakeServer.readRequest(ch);
            Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, -1, write.handle()));
            FakeServer.serveCorrectly(ch, disk, true);
        })) {
            fake.structured = true;
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertEquals(BlkStatus.ioerr("nbd0: server replied EIO (Input/output error) to NBD_CMD_READ at offset 0 length 4096: disk on fire\\x0a12:00:00 INFO all is well"),
                    Io.submit(nbd0, Bio.read(0, MemorySegment.ofArray(new byte[4096]))));
            assertEquals(BlkStatus.ioerr("nbd0: server replied error 4294967295 to NBD_CMD_WRITE at offset 0 length 4096"),
                    Io.submit(nbd0, Bio.write(0, MemorySegment.ofArray(new byte[4096]))));
            assertEquals(1, fake.connections.get(), "error replies are answers, not faults");
        }
    }

    @Test
    void aRefusalIsPassedUpPrintable() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> FakeServer.serveCorrectly(ch, disk))) {
            fake.refusal = "go away\n12:00:00 INFO connected";
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            assertEquals("the server refused export 'disk': NBD_REP_ERR_POLICY (the server refuses this client): go away\\x0a12:00:00 INFO connected",
                    Io.awaitLastError(nbd.device("nbd0")));
        }
    }

    /** doc/proto.md: a client that gives up during the handshake says NBD_OPT_ABORT rather than hanging up. */
    @Test
    void aRefusedClientSaysAbortBeforeItHangsUp() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> FakeServer.serveCorrectly(ch, disk))) {
            fake.refusal = "not you";
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            Io.awaitLastError(nbd.device("nbd0"));
            long limit = System.nanoTime() + Io.LIMIT.toNanos();
            while (fake.options.size() < 3 && System.nanoTime() < limit) Thread.sleep(5);
            assertEquals(List.of(OPT_STRUCTURED_REPLY, OPT_GO, OPT_ABORT), fake.options.subList(0, 3));
        }
    }

    static Stream<Arguments> handshakeLies() {
        ByteBuffer export = ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(1 << 20).putShort((short) FLAG_HAS_FLAGS).flip();
        return Stream.of(
                Arguments.of(List.of(blockSize(8192, 8192, 1 << 20), export),
                        "export 'disk' has a minimum block size of 8192 bytes; a block device's logical block size can be at most 4096"),
                Arguments.of(List.of(blockSize(3, 4096, 1 << 20), export), "invalid minimum block size 3"),
                Arguments.of(List.of(blockSize(512, 256, 1 << 20), export), "invalid preferred block size 256"),
                Arguments.of(List.of(blockSize(512, 4096, 100), export), "maximum block size 100 is below 512 bytes"),
                Arguments.of(List.of(blockSize(4096, 4096, 2048), export), "maximum block size 2048 is below the minimum block size 4096"),
                Arguments.of(List.of(blockSize(512, 4096, 1 << 20)), "the server acknowledged NBD_OPT_GO without NBD_INFO_EXPORT"),
                Arguments.of(List.of(ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(1L << 63).putShort((short) FLAG_HAS_FLAGS).flip()),
                        "export 'disk' has a size of 9223372036854775808 bytes, more than a block device can address"),
                Arguments.of(List.of(ByteBuffer.allocate(11).putShort((short) INFO_EXPORT).putLong(1 << 20).put((byte) 1).flip()),
                        "NBD_INFO_EXPORT of 11 bytes instead of 12"),
                Arguments.of(List.of(ByteBuffer.allocate(1).put((byte) 0).flip()), "NBD_REP_INFO of 1 bytes, too short for its type"));
    }

    private static ByteBuffer blockSize(int min, int preferred, int max) {
        return ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(min).putInt(preferred).putInt(max).flip();
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("handshakeLies")
    void anExportDescribedInWaysNoBlockDeviceCanBeIsRefusedWithTheReason(List<ByteBuffer> infos, String why) throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> FakeServer.serveCorrectly(ch, disk))) {
            fake.infos = infos;
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            NbdDevice device = nbd.device("nbd0");
            assertEquals(why, Io.awaitLastError(device));
            assertEquals(null, device.device(), "no disk is made from what the server said");
        }
    }

    @Test
    void requestsOnMemoryConfinedToTheirThreadFailAloneAndTheConnectionGoesOn() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> FakeServer.serveCorrectly(ch, disk));
                Arena confined = Arena.ofConfined()) {
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            BlkStatus s = Io.submit(nbd0, Bio.write(0, confined.allocate(4096)));
            assertEquals(BlkStatus.Code.IOERR, s.code(), s.toString());
            assertEquals("nbd0: cannot send NBD_CMD_WRITE offset 0 length 4096: its memory is confined to another thread", s.message());
            assertEquals(BlkStatus.ioerr("nbd0: cannot send NBD_CMD_READ offset 0 length 4096: its memory is confined to another thread"),
                    Io.submit(nbd0, Bio.read(0, confined.allocate(4096))));
            byte[] data = Io.pattern(4096, 17);
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.write(8, MemorySegment.ofArray(data))));
            assertArrayEquals(data, Io.read(nbd0, 8, 4096));
            assertEquals(1, fake.connections.get(), "the connection was never in doubt");
        }
    }

    @Test
    void eshutdownIsASoftDisconnectAndTheRequestGoesToTheNextConnection() throws Exception {
        AtomicBoolean disconnected = new AtomicBoolean();
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            if (n >= 1) {
                FakeServer.serveCorrectly(ch, disk, true);
                return;
            }
            FakeServer.Req r = FakeServer.readRequest(ch);
            byte[] msg = "going down".getBytes(StandardCharsets.UTF_8);
            Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR, r.handle(), 6 + msg.length),
                    ByteBuffer.allocate(6 + msg.length).putInt(ESHUTDOWN).putShort((short) msg.length).put(msg).flip());
            disconnected.set(FakeServer.readRequest(ch).type() == CMD_DISC); // and then the server closes
        })) {
            fake.structured = true;
            byte[] contents = Io.pattern(4096, 19);
            System.arraycopy(contents, 0, fake.disk, 0, contents.length);
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertArrayEquals(contents, Io.read(nbd0, 0, 4096), "answered by the next connection");
            assertTrue(disconnected.get(), "the client said NBD_CMD_DISC, as the spec asks after ESHUTDOWN");
            assertEquals("connection lost: the server is shutting down (ESHUTDOWN)", nbd.device("nbd0").lastError());
        }
    }

    @Test
    void chunksInAnyOrderThatTileTheRequestAreOneGoodReply() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            FakeServer.Req r = FakeServer.readRequest(ch);
            data(ch, r, 4096, 1024, disk, 0);
            data(ch, r, 5120, 1024, disk, 0); // after the first
            data(ch, r, 3072, 1024, disk, 0); // before it
            data(ch, r, 0, 1024, disk, 0);
            data(ch, r, 7168, 1024, disk, 0);
            data(ch, r, 1024, 2048, disk, 0); // joins two ranges
            data(ch, r, 6144, 1024, disk, REPLY_FLAG_DONE); // and fills the last gap
            FakeServer.serveCorrectly(ch, disk, true);
        })) {
            fake.structured = true;
            byte[] contents = Io.pattern(8192, 23);
            System.arraycopy(contents, 0, fake.disk, 0, contents.length);
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertArrayEquals(contents, Io.read(nbd0, 0, 8192));
            assertEquals(1, fake.connections.get());
        }
    }

    @Test
    void writeZeroesKeepsToTheMaximumBlockSizeAndTrimNeedNot() throws Exception {
        List<String> requests = new CopyOnWriteArrayList<>();
        try (FakeServer fake = new FakeServer(4 << 20, true, FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES, (n, ch, disk) -> {
            while (true) {
                FakeServer.Req r = FakeServer.readRequest(ch);
                if (r.type() == CMD_DISC) return;
                requests.add(commandName(r.type()) + " " + r.offset() + " " + r.length());
                Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, r.handle()));
            }
        })) {
            fake.infos = List.of(blockSize(512, 4096, 256 << 10),
                    ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(4 << 20).putShort((short) (FLAG_HAS_FLAGS | FLAG_SEND_TRIM
                            | FLAG_SEND_WRITE_ZEROES)).flip());
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.writeZeroes(0, 1 << 20)));
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.discard(0, 1 << 20)));
            assertEquals(List.of("NBD_CMD_TRIM 0 1048576", "NBD_CMD_WRITE_ZEROES 0 262144", "NBD_CMD_WRITE_ZEROES 262144 262144",
                    "NBD_CMD_WRITE_ZEROES 524288 262144", "NBD_CMD_WRITE_ZEROES 786432 262144"), requests.stream().sorted().toList());
        }
    }

    @Test
    void aWriteAnsweredBeforeItsPayloadWasReadEndsOnlyOnceTheClientHasSentIt() throws Exception {
        CountDownLatch readThePayload = new CountDownLatch(1);
        int size = 24 << 20; // more than the sockets' buffers hold, so the client's sender is still writing
        try (FakeServer fake = new FakeServer(32 << 20, true, 0, (n, ch, disk) -> {
            FakeServer.Req read = FakeServer.readRequest(ch);
            ByteBuffer write = Wire.read(ch, REQUEST_SIZE); // the WRITE's header; its payload is left unread
            Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, write.getLong(8)));
            Wire.writeFully(ch, FakeServer.simpleReply(SIMPLE_REPLY_MAGIC, 0, read.handle()), ByteBuffer.wrap(disk, 0, read.length()));
            try {
                readThePayload.await();
            } catch (InterruptedException e) {
                return;
            }
            Wire.skip(ch, size);
            FakeServer.serveCorrectly(ch, disk);
        }); Arena arena = Arena.ofShared()) {
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            Bio read = Bio.read(0, MemorySegment.ofArray(new byte[512]));
            Bio write = Bio.write(8, arena.allocate(size));
            nbd0.submit(read);
            nbd0.submit(write);
            assertEquals(BlkStatus.OK, Io.await(read), "its reply came after the WRITE's, so the WRITE's has been read too");
            assertFalse(write.completion().toCompletableFuture().isDone(), "the WRITE's memory is still being sent: it is not over yet");
            readThePayload.countDown();
            assertEquals(BlkStatus.OK, Io.await(write));
        } // closing the arena now would fail ("Session is acquired by 1 clients") had the bio ended mid-send
    }

    @Test
    void fuaWithoutFlushIsIgnoredAsLinuxIgnoresIt() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, FLAG_SEND_FUA, (n, ch, disk) -> FakeServer.serveCorrectly(ch, disk))) {
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            assertEquals("write through", nbd0.attributes().read("queue/write_cache"));
            assertEquals("0", nbd0.attributes().read("queue/fua"), "no write cache: FUA has nothing to force out");
        }
    }

    /** An NBD_REPLY_TYPE_OFFSET_DATA chunk of {@code disk}'s bytes at {@code offset}. */
    private static void data(SocketChannel ch, FakeServer.Req r, long offset, int length, byte[] disk, int flags) throws IOException {
        Wire.writeFully(ch, FakeServer.chunk(flags, REPLY_TYPE_OFFSET_DATA, r.handle(), 8 + length), ByteBuffer.allocate(8).putLong(offset).flip(),
                ByteBuffer.wrap(disk, (int) offset, length));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("lies")
    void aReplyTheSpecForbidsDropsTheConnectionAndTheReadIsAnsweredByTheNext(String lie, String why, Lie first) throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            if (n >= 1) {
                FakeServer.serveCorrectly(ch, disk, true);
                return;
            }
            first.tell(ch, FakeServer.readRequest(ch), disk);
            while (ch.read(ByteBuffer.allocate(4096)) >= 0) { } // until the client hangs up
        })) {
            fake.structured = true;
            byte[] contents = Io.pattern(8192, 3);
            System.arraycopy(contents, 0, fake.disk, 0, contents.length);
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            byte[] buffer = new byte[8192];
            Arrays.fill(buffer, (byte) 0x55);
            assertEquals(BlkStatus.OK, Io.submit(nbd0, Bio.read(0, MemorySegment.ofArray(buffer))));
            assertArrayEquals(contents, buffer, "every byte from the connection that told the truth");
            assertEquals(2, fake.connections.get(), "the lie cost its connection");
            String lastError = nbd.device("nbd0").lastError();
            assertTrue(lastError.startsWith("connection lost: ") && lastError.contains(why), lastError);
        }
    }
}
