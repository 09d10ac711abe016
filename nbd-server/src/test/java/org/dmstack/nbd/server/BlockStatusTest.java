package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.STATE_HOLE;
import static org.dmstack.nbd.protocol.Nbd.STATE_ZERO;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import org.dmstack.nbd.protocol.Nbd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** NBD_CMD_BLOCK_STATUS for base:allocation: its reply chunk byte by byte, its bounds and its errors. */
class BlockStatusTest {
    private static final int HOLE = STATE_HOLE | STATE_ZERO;
    private static final long SIZE = 4 << 20;
    private final MemBackend mem = new MemBackend("mem", SIZE);
    private NbdServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    /** A client in transmission on "mem" with base:allocation selected (or nothing, when {@code select} is false). */
    private RawClient open(boolean select) throws IOException {
        server = NbdServer.builder().device("mem", mem, false).port(0).start();
        RawClient c = RawClient.negotiate(server.port());
        c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
        assertEquals(Nbd.REP_ACK, c.optReply().type());
        if (select) {
            c.option(Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"));
            assertEquals(Nbd.REP_META_CONTEXT, c.optReply().type());
            assertEquals(Nbd.REP_ACK, c.optReply().type());
        }
        assertEquals(Nbd.REP_ACK, c.go("mem").type());
        return c;
    }

    private void data(long fromSector, long toSector) {
        if (mem.dataSectors == null) mem.dataSectors = new BitSet();
        mem.dataSectors.set((int) fromSector, (int) toSector);
    }

    /** The exact chunk: header with DONE, context id 1, then (length, flags) pairs. */
    private static void assertStatus(RawClient c, long handle, long... descriptors) throws IOException {
        RawClient.Chunk chunk = c.chunk();
        assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, chunk.type(), () -> "not a block status chunk: error " + chunk.error() + " " + chunk.message());
        assertEquals(Nbd.REPLY_FLAG_DONE, chunk.flags());
        assertEquals(handle, chunk.handle());
        ByteBuffer expected = ByteBuffer.allocate(4 + 4 * descriptors.length).putInt(1);
        for (long d : descriptors) expected.putInt((int) d);
        assertArrayEquals(expected.array(), chunk.payload());
    }

    private static void assertError(RawClient c, long handle, int error, String message) throws IOException {
        RawClient.Chunk chunk = c.chunk();
        assertEquals(Nbd.REPLY_TYPE_ERROR, chunk.type());
        assertEquals(Nbd.REPLY_FLAG_DONE, chunk.flags());
        assertEquals(handle, chunk.handle());
        assertEquals(error, chunk.error());
        assertEquals(message, chunk.message());
    }

    @Test
    void holesAndDataFromTheBackendInOneChunk() throws IOException {
        data(8, 24); // 4 KiB to 12 KiB
        data(100, 101); // one sector at 50 KiB
        try (RawClient c = open(true)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, SIZE, null);
            assertStatus(c, 1, 4096, HOLE, 8192, 0, 51200 - 12288, HOLE, 512, 0, SIZE - 51712, HOLE);
            c.request(0, Nbd.CMD_BLOCK_STATUS, 2, 6144, 8192, null);
            assertStatus(c, 2, 6144, 0, 2048, HOLE);
            c.request(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 3, 0, SIZE, null);
            assertStatus(c, 3, 4096, HOLE);
            c.request(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 4, 4096, 1024, null);
            assertStatus(c, 4, 1024, 0);
        }
    }

    @Test
    void aBackendThatCannotTellReportsData() throws IOException {
        try (RawClient c = open(true)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 512, SIZE - 512, null);
            assertStatus(c, 1, SIZE - 512, 0);
        }
    }

    /** Holes shrink to the minimum blocks wholly in them; data grows to the blocks it touches. */
    @Test
    void extentsAreWholeMinimumBlocks() throws IOException {
        mem.minBlock = 4096;
        data(9, 10); // in block 1
        data(47, 49); // the end of block 5 and the start of block 6
        data(64, 72); // block 8
        try (RawClient c = open(true)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, 40960, null);
            assertStatus(c, 1, 4096, HOLE, 4096, 0, 3 * 4096, HOLE, 2 * 4096, 0, 4096, HOLE, 4096, 0, 4096, HOLE);
        }
    }

    /** Alternating pages: no reply holds more than 4096 descriptors; asking on from its end gives the rest. */
    @Test
    void aHugeAnswerIsBounded() throws IOException {
        for (int page = 0; page < SIZE / 4096; page += 2) data(page * 8L, page * 8L + 8);
        try (RawClient c = open(true)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, SIZE, null);
            RawClient.Chunk chunk = c.chunk();
            ByteBuffer p = ByteBuffer.wrap(chunk.payload());
            assertEquals(1, p.getInt());
            assertEquals(8 * 1024, p.remaining(), "1024 pages: 1024 descriptors, within the bound");
        }
        mem.dataSectors = null;
        for (int sector = 0; sector < BlockStatus.MAX_DESCRIPTORS + 5; sector += 2) data(sector, sector + 1);
        try (RawClient c = open(true)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 2, 0, SIZE, null);
            RawClient.Chunk chunk = c.chunk();
            assertEquals(4 + 8 * BlockStatus.MAX_DESCRIPTORS, chunk.payload().length);
            long covered = 0;
            ByteBuffer p = ByteBuffer.wrap(chunk.payload(), 4, 8 * BlockStatus.MAX_DESCRIPTORS);
            for (int i = 0; i < BlockStatus.MAX_DESCRIPTORS; i++) {
                assertEquals(512, p.getInt());
                assertEquals(i % 2 == 0 ? 0 : HOLE, p.getInt());
                covered += 512;
            }
            c.request(0, Nbd.CMD_BLOCK_STATUS, 3, covered, SIZE - covered, null);
            assertStatus(c, 3, 512, 0, 512, HOLE, 512, 0, 512, HOLE, 512, 0, SIZE - covered - 5 * 512, HOLE);
        }
    }

    @Test
    void refusedRequestsAreEinvalWithASentence() throws IOException {
        try (RawClient c = open(false)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, 4096, null);
            assertError(c, 1, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: no metadata context was selected (NBD_OPT_SET_META_CONTEXT)");
        }
        server.close();
        try (RawClient c = open(true)) {
            c.request(0, Nbd.CMD_BLOCK_STATUS, 1, 0, 0, null);
            assertError(c, 1, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: length 0");
            c.request(0, Nbd.CMD_BLOCK_STATUS, 2, SIZE - 512, 1024, null);
            assertError(c, 2, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: offset " + (SIZE - 512) + " length 1024 is beyond the end of the export (4194304 bytes)");
            c.request(0, Nbd.CMD_BLOCK_STATUS, 3, SIZE, 512, null);
            assertError(c, 3, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: offset 4194304 length 512 is beyond the end of the export (4194304 bytes)");
            c.request(0, Nbd.CMD_BLOCK_STATUS, 4, 100, 512, null);
            assertError(c, 4, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: offset 100 length 512 is not aligned to the block size 512");
            c.request(Nbd.CMD_FLAG_DF, Nbd.CMD_BLOCK_STATUS, 5, 0, 512, null);
            assertError(c, 5, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: unsupported flags 0x4");
            c.request(0, Nbd.CMD_BLOCK_STATUS, 6, 0, 0xFFFFFE00L, null);
            assertError(c, 6, Nbd.EINVAL, "NBD_CMD_BLOCK_STATUS: offset 0 length 4294966784 is beyond the end of the export (4194304 bytes)");
            c.request(0, Nbd.CMD_BLOCK_STATUS, 7, 0, 512, null);
            assertStatus(c, 7, 512, 0);
        }
    }
}
