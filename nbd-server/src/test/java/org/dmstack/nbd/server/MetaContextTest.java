package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.dmstack.nbd.protocol.Nbd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT as the spec's "Metadata querying" says,
 * reply by reply, byte by byte; and which selection a client takes into transmission.
 */
class MetaContextTest {
    private NbdServer server;

    @BeforeEach
    void start() throws IOException {
        server = NbdServer.builder().device("mem", new MemBackend("mem", 1 << 20), false)
                .device("other", new MemBackend("other", 1 << 20), false).port(0).start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private RawClient structured() throws IOException {
        RawClient c = RawClient.negotiate(server.port());
        c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
        assertEquals(Nbd.REP_ACK, c.optReply().type());
        return c;
    }

    private static void assertReply(int option, int type, byte[] data, RawClient.OptReply r) {
        assertEquals(option, r.option(), "option");
        assertEquals(Integer.toHexString(type), Integer.toHexString(r.type()), () -> "reply type of " + r);
        assertArrayEquals(data, r.data(), () -> "data of " + r);
    }

    private static byte[] context(int id, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + n.length).putInt(id).put(n).array();
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Sends a LIST or SET and checks its replies: the contexts, then ACK. */
    private static void assertContexts(RawClient c, int option, byte[] request, byte[]... contexts) throws IOException {
        c.option(option, request);
        for (byte[] context : contexts) assertReply(option, Nbd.REP_META_CONTEXT, context, c.optReply());
        assertReply(option, Nbd.REP_ACK, new byte[0], c.optReply());
    }

    @Test
    void listWithoutQueriesListsEveryContextWithIdZero() throws IOException {
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("mem"), context(0, "base:allocation"));
            assertContexts(c, Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("mem", "base:"), context(0, "base:allocation"));
            assertContexts(c, Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation", "base:", "base:allocation"),
                    context(0, "base:allocation"));
        }
    }

    @Test
    void unknownNamesAndNamespacesAreNotReplied() throws IOException {
        try (RawClient c = structured()) {
            byte[] request = RawClient.metaContextRequest("mem", "base:nothing", "qemu:dirty-bitmap:b0", "x-foo:", "nbd-server:");
            assertContexts(c, Nbd.OPT_LIST_META_CONTEXT, request);
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, request);
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:"), new byte[0][]); // a wildcard selects nothing
        }
    }

    @Test
    void setSelectsBaseAllocationWithItsStableId() throws IOException {
        for (int connection = 0; connection < 2; connection++) {
            try (RawClient c = structured()) {
                assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "x-a:b", "base:allocation", "base:allocation"),
                        context(1, "base:allocation"));
                assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("other", "base:allocation"), context(1, "base:allocation"));
            }
        }
    }

    @Test
    void bothNeedStructuredRepliesFirst() throws IOException {
        try (RawClient c = RawClient.negotiate(server.port())) {
            c.option(Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("mem"));
            assertReply(Nbd.OPT_LIST_META_CONTEXT, Nbd.REP_ERR_INVALID,
                    text("NBD_OPT_LIST_META_CONTEXT: structured replies must be negotiated first (NBD_OPT_STRUCTURED_REPLY)"), c.optReply());
            c.option(Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"));
            assertReply(Nbd.OPT_SET_META_CONTEXT, Nbd.REP_ERR_INVALID,
                    text("NBD_OPT_SET_META_CONTEXT: structured replies must be negotiated first (NBD_OPT_STRUCTURED_REPLY)"), c.optReply());
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
        }
    }

    @Test
    void theExportMustExist() throws IOException {
        try (RawClient c = structured()) {
            for (int option : new int[] {Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT}) {
                c.option(option, RawClient.metaContextRequest("nope", "base:allocation"));
                assertReply(option, Nbd.REP_ERR_UNKNOWN, text("No export named 'nope'"), c.optReply());
            }
        }
    }

    /** Lying lengths and bad strings: each refused with NBD_REP_ERR_INVALID and a sentence, and the session goes on. */
    @Test
    void malformedOptionsAreInvalidAndTheSessionGoesOn() throws IOException {
        byte[] nul = "base:\0allocation".getBytes(StandardCharsets.UTF_8);
        Object[][] cases = {
            {new byte[7], "7 bytes of data is too short"},
            {ByteBuffer.allocate(8).putInt(-1).putInt(0).array(), "export name length 4294967295 overruns the option"},
            {ByteBuffer.allocate(8).putInt(1).putInt(0).array(), "export name length 1 overruns the option"},
            {ByteBuffer.allocate(10).putInt(3).put(text("mem")).array(), "export name length 3 overruns the option"},
            {ByteBuffer.allocate(17).putInt(0).putInt(-1).putInt(5).put(text("base:")).array(), "query 2 of 4294967295 overruns the option"},
            {ByteBuffer.allocate(12).putInt(0).putInt(1).putInt(1).array(), "query 1 length 1 overruns the option"},
            {ByteBuffer.allocate(16).putInt(0).putInt(1).putInt(-2).put(text("base")).array(), "query 1 length 4294967294 overruns the option"},
            {ByteBuffer.allocate(10).putInt(0).putInt(0).putShort((short) 7).array(), "2 bytes after the last query"},
            {ByteBuffer.allocate(12 + nul.length).putInt(0).putInt(1).putInt(nul.length).put(nul).array(), "query 1 is not a valid NBD string"},
            {ByteBuffer.allocate(9).putInt(1).put((byte) 0).putInt(0).array(), "the export name is not a valid NBD string"},
            {RawClient.metaContextRequest("mem", "allocation"), "query 'allocation' does not start with a namespace and a colon"},
            {RawClient.metaContextRequest("mem", ":allocation"), "query ':allocation' does not start with a namespace and a colon"},
        };
        try (RawClient c = structured()) {
            for (Object[] bad : cases) {
                for (int option : new int[] {Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT}) {
                    c.option(option, (byte[]) bad[0]);
                    assertReply(option, Nbd.REP_ERR_INVALID, text(Nbd.optionName(option) + ": " + bad[1]), c.optReply());
                }
            }
            assertContexts(c, Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("mem"), context(0, "base:allocation"));
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
        }
    }

    /** What BLOCK_STATUS says after GO: a reply chunk when a context was selected for this export, EINVAL when none. */
    private static int blockStatusError(RawClient c) throws IOException {
        c.request(0, Nbd.CMD_BLOCK_STATUS, 9, 0, 4096, null);
        RawClient.Chunk chunk = c.chunk();
        assertEquals(9, chunk.handle());
        return chunk.type() == Nbd.REPLY_TYPE_BLOCK_STATUS ? 0 : chunk.error();
    }

    @Test
    void theSelectionCountsOnlyForTheExportItNamed() throws IOException {
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("other", "base:allocation"), context(1, "base:allocation"));
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
            assertEquals(Nbd.EINVAL, blockStatusError(c), "set for 'other', went to 'mem'");
        }
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"), context(1, "base:allocation"));
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
            assertEquals(0, blockStatusError(c));
        }
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"), context(1, "base:allocation"));
            c.option(Nbd.OPT_EXPORT_NAME, text("mem"));
            assertEquals(1 << 20, c.in.readLong(), "NBD_OPT_EXPORT_NAME's size");
            c.in.readUnsignedShort();
            assertEquals(0, blockStatusError(c), "NBD_OPT_EXPORT_NAME keeps it too");
        }
    }

    @Test
    void aLaterSetReplacesTheSelectionEvenWhenItFails() throws IOException {
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"), context(1, "base:allocation"));
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem"));
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
            assertEquals(Nbd.EINVAL, blockStatusError(c), "no query selects nothing");
        }
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"), context(1, "base:allocation"));
            c.option(Nbd.OPT_SET_META_CONTEXT, new byte[3]);
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type());
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
            assertEquals(Nbd.EINVAL, blockStatusError(c), "a failed SET leaves none, as the spec says");
        }
    }

    @Test
    void listingAndASecondStructuredReplyChangeNothing() throws IOException {
        try (RawClient c = structured()) {
            assertContexts(c, Nbd.OPT_SET_META_CONTEXT, RawClient.metaContextRequest("mem", "base:allocation"), context(1, "base:allocation"));
            assertContexts(c, Nbd.OPT_LIST_META_CONTEXT, RawClient.metaContextRequest("other", "x-foo:bar"));
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "already negotiated");
            assertEquals(Nbd.REP_ACK, c.info(Nbd.OPT_INFO, "other").type());
            assertEquals(Nbd.REP_ACK, c.go("mem").type());
            assertEquals(0, blockStatusError(c));
        }
    }
}
