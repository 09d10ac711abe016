package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.dmstack.nbd.protocol.Nbd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a client that checks every byte against the spec sees of the corners the export's own
 * tests leave: strings at their limit, names meant to forge log lines, information requests
 * repeated or unknown, 64-bit overflow, lengths of 0 and 2^32 - 1, NBD_CMD_DISC with a request
 * in flight.
 */
class ExactingClientTest {
    private static final long SIZE = 1 << 20;
    private MemBackend mem;
    private NbdServer server;

    @BeforeEach
    void start() throws IOException {
        mem = new MemBackend("mem", SIZE);
        server = NbdServer.builder().device("mem", mem, false).port(0).start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void aNameMeantToForgeALogLineComesBackWithItsControlCharactersEscaped() throws IOException {
        String forged = "x'\n12:00:00 WARN everything is fine";
        try (RawClient c = RawClient.negotiate(server.port())) {
            RawClient.OptReply r = c.info(Nbd.OPT_GO, forged);
            assertEquals(Nbd.REP_ERR_UNKNOWN, r.type());
            assertEquals("No export named 'x'\\x0a12:00:00 WARN everything is fine'", r.text());
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.optReply().type());
            c.option(Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest(forged));
            assertEquals("No export named 'x'\\x0a12:00:00 WARN everything is fine'", c.optReply().text());
            c.option(Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("mem", "no namespace\nWARN forged"));
            assertEquals("NBD_OPT_LIST_META_CONTEXT: query 'no namespace\\x0aWARN forged' does not start with a namespace and a colon",
                    c.optReply().text());
            assertEquals(Nbd.REP_ACK, c.go("mem").type(), "the session goes on");
        }
    }

    @Test
    void anErrorMessageOverTheStringLimitIsCutBetweenTwoCharacters() throws IOException {
        String name = "é".repeat(2047); // 4094 bytes: a valid name, and a refusal that names it is longer than 4096
        try (NbdServer ro = NbdServer.builder().device(name, new MemBackend("ro", SIZE), true).port(0).start();
                RawClient c = RawClient.openStructured(ro.port(), name)) {
            c.request(0, Nbd.CMD_WRITE, 7, 0, 512, new byte[512]);
            RawClient.Chunk chunk = c.chunk();
            assertEquals(Nbd.REPLY_TYPE_ERROR, chunk.type());
            assertEquals(Nbd.REPLY_FLAG_DONE, chunk.flags());
            assertEquals(Nbd.EPERM, chunk.error());
            String prefix = "NBD_CMD_WRITE: export '"; // 23 bytes: a cut at byte 4096 would fall inside an 'é'
            String expected = prefix + "é".repeat((4096 - prefix.length()) / 2);
            assertEquals(4095, expected.getBytes(StandardCharsets.UTF_8).length);
            assertEquals(6 + 4095, chunk.payload().length, "the chunk's length covers the message exactly");
            assertEquals(expected, chunk.message());
            c.request(0, Nbd.CMD_READ, 8, 0, 512, null);
            c.assertOffsetData(8, 0, new byte[512]); // still in step
        }
    }

    @Test
    void informationRequestsRepeatedOrUnknownAreAnsweredOnceOrIgnored() throws IOException {
        try (RawClient c = RawClient.negotiate(server.port())) {
            RawClient.OptReply r = c.info(Nbd.OPT_INFO, "mem", Nbd.INFO_NAME, 0x7777, Nbd.INFO_NAME, Nbd.INFO_EXPORT, 0xffff);
            assertEquals(Nbd.REP_ACK, r.type());
            assertEquals(Map.of(Nbd.INFO_EXPORT, 10, Nbd.INFO_NAME, 3, Nbd.INFO_BLOCK_SIZE, 12),
                    Map.of(Nbd.INFO_EXPORT, c.infos.get(Nbd.INFO_EXPORT).length, Nbd.INFO_NAME, c.infos.get(Nbd.INFO_NAME).length,
                            Nbd.INFO_BLOCK_SIZE, c.infos.get(Nbd.INFO_BLOCK_SIZE).length));
            assertEquals(3, c.infos.size(), "nothing for the unknown types");
            assertArrayEquals(new int[] {512, 4096, 32 << 20}, c.blockSize(), "sent although not asked for, as the spec allows");
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
        }
    }

    @Test
    void aPreferredBlockSizeIsNeverBelow512EvenForAByteAddressableBackend() throws IOException {
        mem.minBlock = 1;
        mem.preferredBlock = 1;
        try (RawClient c = RawClient.negotiate(server.port())) {
            assertEquals(Nbd.REP_ACK, c.info(Nbd.OPT_INFO, "mem", Nbd.INFO_BLOCK_SIZE).type());
            assertArrayEquals(new int[] {1, 512, 32 << 20}, c.blockSize(), "minimum 1, preferred at least 2^9, as the spec requires");
        }
    }

    @Test
    void rangesThatOverflowSixtyFourBitsAreRefusedAndTheSessionStaysInStep() throws IOException {
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            long end = -512L; // 2^64 - 512: offset + length wraps around to 512
            c.request(0, Nbd.CMD_READ, 1, end, 1024, null);
            assertReply(Nbd.EINVAL, 1, c.simpleReply(1024));
            c.request(0, Nbd.CMD_WRITE, 2, end, 1024, new byte[1024]);
            assertReply(Nbd.ENOSPC, 2, c.reply());
            c.request(0, Nbd.CMD_WRITE_ZEROES, 3, end, 1024, null);
            assertEquals(Nbd.ENOSPC, c.reply().error());
            c.request(0, Nbd.CMD_TRIM, 4, end, 1024, null);
            assertEquals(Nbd.EINVAL, c.reply().error());
            assertEquals(0, c.read(5, SIZE - 512, 512).error(), "the refused WRITE's payload was skipped");
        }
        assertTrue(mem.log.stream().noneMatch(s -> s.startsWith("write") || s.startsWith("zeroes") || s.startsWith("trim")), mem.log.toString());
    }

    @Test
    void lengthsOfZeroAndTwoToTheThirtyTwoMinusOne() throws IOException {
        try (RawClient c = RawClient.openStructured(server.port(), "mem")) {
            c.request(0, Nbd.CMD_READ, 1, 0, 0, null);
            RawClient.Chunk none = c.chunk(); // a READ of nothing: one NBD_REPLY_TYPE_NONE chunk, DONE, no payload
            assertEquals(List.of(Nbd.REPLY_FLAG_DONE, Nbd.REPLY_TYPE_NONE, 1L, 0), List.of(none.flags(), none.type(), none.handle(), none.payload().length));
            c.request(0, Nbd.CMD_READ, 2, 0, 0xffff_ffffL, null);
            RawClient.Chunk error = c.chunk();
            assertEquals(Nbd.REPLY_TYPE_ERROR, error.type());
            assertEquals(Nbd.EINVAL, error.error());
            assertEquals("NBD_CMD_READ: length 4294967295 is over the maximum of 33554432", error.message());
            c.request(0, Nbd.CMD_TRIM, 3, 0, 0xffff_ffffL, null);
            assertEquals(Nbd.EINVAL, c.chunk().error());
            c.request(0, Nbd.CMD_WRITE, 4, 0, 0xffff_ffffL, null); // a payload no one will skip 4 GiB of
            RawClient.Chunk refused = c.chunk();
            assertEquals(4, refused.handle());
            assertEquals(Nbd.EINVAL, refused.error(), "answered before the hang-up");
            assertTrue(c.closedByServer());
        }
        assertTrue(mem.log.stream().noneMatch(s -> s.startsWith("write") || s.startsWith("trim")), mem.log.toString());
    }

    @Test
    void discWithAWriteInFlightAnswersItThenCloses() throws Exception {
        mem.parkWrites = true;
        try (RawClient c = RawClient.open(server.port(), "mem")) {
            c.request(0, Nbd.CMD_WRITE, 1, 0, 512, new byte[512]);
            c.disconnect();
            c.request(0, Nbd.CMD_READ, 2, 0, 512, null); // after DISC: never read
            long limit = System.nanoTime() + 30_000_000_000L;
            while (mem.parked.isEmpty()) {
                if (System.nanoTime() > limit) throw new AssertionError("the write never reached the backend");
                Thread.sleep(1);
            }
            mem.parked.poll().done(0, null);
            assertReply(0, 1, c.reply());
            assertTrue(c.closedByServer(), "closed once the write in flight was answered; nothing after DISC was answered");
        }
    }

    private static void assertReply(int error, long handle, RawClient.Reply r) {
        assertEquals(error, r.error(), "error");
        assertEquals(handle, r.handle(), "handle");
        assertEquals(0, r.data().length, "no data with this reply");
    }
}
