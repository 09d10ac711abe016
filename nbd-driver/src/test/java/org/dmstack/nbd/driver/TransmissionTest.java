package org.dmstack.nbd.driver;

import static org.dmstack.nbd.protocol.Nbd.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.junit.jupiter.api.Test;

/** Pipelined requests and replies that come back out of order, in structured chunks. */
class TransmissionTest extends DriverFixture {
    @Test
    void fourReadsInFlightAnsweredInReverseOrderInChunksWithHolesAndAnError() throws Exception {
        try (FakeServer fake = new FakeServer(1 << 20, true, 0, (n, ch, disk) -> {
            List<FakeServer.Req> reqs = new ArrayList<>();
            for (int i = 0; i < 4; i++) reqs.add(FakeServer.readRequest(ch)); // all four are in flight at once
            for (int i = 3; i >= 0; i--) {
                FakeServer.Req r = reqs.get(i);
                int half = r.length() / 2;
                if (r.offset() == 3 * 4096) { // the last block: an error with a message
                    byte[] msg = "disk on fire".getBytes(StandardCharsets.UTF_8);
                    Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_ERROR, r.handle(), 6 + msg.length),
                            ByteBuffer.allocate(6 + msg.length).putInt(EIO).putShort((short) msg.length).put(msg).flip());
                    continue;
                }
                // The second half first, as data; then the first half as a hole; then the end.
                Wire.writeFully(ch, FakeServer.chunk(0, REPLY_TYPE_OFFSET_DATA, r.handle(), 8 + half),
                        ByteBuffer.allocate(8).putLong(r.offset() + half).flip(), ByteBuffer.wrap(disk, (int) r.offset() + half, half));
                Wire.writeFully(ch, FakeServer.chunk(0, REPLY_TYPE_OFFSET_HOLE, r.handle(), 12),
                        ByteBuffer.allocate(12).putLong(r.offset()).putInt(half).flip());
                Wire.writeFully(ch, FakeServer.chunk(REPLY_FLAG_DONE, REPLY_TYPE_NONE, r.handle(), 0));
            }
            FakeServer.serveCorrectly(ch, disk);
        })) {
            fake.structured = true;
            byte[] contents = Io.pattern(4 * 4096, 1);
            System.arraycopy(contents, 0, fake.disk, 0, contents.length);
            nbd.add(NbdDeviceConfig.of(fake.uri()));
            BlockDevice nbd0 = Io.await(registry, "nbd0");
            List<Bio> bios = new ArrayList<>();
            List<byte[]> buffers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] b = new byte[4096];
                Arrays.fill(b, (byte) 0x55);
                buffers.add(b);
                Bio bio = Bio.read(i * 8L, MemorySegment.ofArray(b));
                bios.add(bio);
                nbd0.submit(bio);
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(BlkStatus.OK, Io.await(bios.get(i)));
                byte[] expected = new byte[4096];
                System.arraycopy(contents, i * 4096 + 2048, expected, 2048, 2048); // the first half was a hole
                assertArrayEquals(expected, buffers.get(i), "block " + i);
            }
            assertEquals(BlkStatus.ioerr("nbd0: server replied EIO (Input/output error) to NBD_CMD_READ at offset 12288 length 4096: disk on fire"),
                    Io.await(bios.get(3)));
            assertEquals(1, fake.connections.get(), "replies out of order and error chunks are the protocol, not a fault");
        }
    }
}
