package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.Test;

/** The fixed newstyle handshake: every option, good and bad, byte for byte. */
class HandshakeTest extends ServerFixture {

    @Test
    void greetsWithFixedNewstyle() throws IOException {
        try (RawClient c = RawClient.connect(port())) {
            assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, c.handshakeFlags);
        }
    }

    @Test
    void listNamesEveryExportThenAcks() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.option(Nbd.OPT_LIST, new byte[0]);
            List<String> names = new ArrayList<>();
            RawClient.OptReply r;
            while ((r = c.optReply()).type() == Nbd.REP_SERVER) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                byte[] name = new byte[b.getInt()];
                b.get(name);
                names.add(new String(name, StandardCharsets.UTF_8));
            }
            assertEquals(Nbd.REP_ACK, r.type());
            assertEquals(Nbd.OPT_LIST, r.option());
            assertEquals(List.of("disk", "pmem", "ro", "wc"), names);
        }
    }

    @Test
    void infoDescribesTheExportAndTheSessionGoesOn() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            RawClient.OptReply r = c.info(Nbd.OPT_INFO, "disk", Nbd.INFO_NAME, Nbd.INFO_DESCRIPTION, Nbd.INFO_BLOCK_SIZE);
            assertEquals(Nbd.REP_ACK, r.type());
            assertEquals(RAM_SIZE, c.size);
            // No write cache: no FLUSH, no FUA. Writable: TRIM and WRITE_ZEROES.
            assertEquals(Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_CAN_MULTI_CONN | Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES, c.transmissionFlags);
            assertEquals("disk", new String(c.infos.get(Nbd.INFO_NAME), StandardCharsets.UTF_8));
            assertEquals("ram0 (1:0)", new String(c.infos.get(Nbd.INFO_DESCRIPTION), StandardCharsets.UTF_8));
            assertArrayEquals(new int[] {512, 512, 32 << 20}, c.blockSize());
            // INFO does not end the handshake: GO still works.
            assertEquals(Nbd.REP_ACK, c.go("disk").type());
            assertEquals(0, c.read(1, 0, 512).error());
        }
    }

    @Test
    void flagsTellTheTruthAboutEachDevice() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.info(Nbd.OPT_INFO, "pmem", Nbd.INFO_BLOCK_SIZE);
            assertEquals(Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_CAN_MULTI_CONN | Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES | Nbd.FLAG_SEND_FLUSH
                    | Nbd.FLAG_SEND_FUA, c.transmissionFlags);
            assertArrayEquals(new int[] {512, 4096, 32 << 20}, c.blockSize(), "pmem0: 512 logical, 4096 physical");

            c.info(Nbd.OPT_INFO, "wc", Nbd.INFO_BLOCK_SIZE);
            assertTrue((c.transmissionFlags & Nbd.FLAG_SEND_FUA) != 0, "write cache without device FUA: FUA is emulated with a flush");
            assertArrayEquals(new int[] {4096, 4096, 32 << 20}, c.blockSize());

            c.info(Nbd.OPT_INFO, "ro");
            assertEquals(Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_CAN_MULTI_CONN | Nbd.FLAG_READ_ONLY, c.transmissionFlags);
        }
    }

    @Test
    void exportNameEntersTransmissionWithOrWithoutZeroes() throws IOException {
        for (boolean noZeroes : new boolean[] {true, false}) {
            try (RawClient c = RawClient.connect(port())) {
                c.clientFlags(Nbd.FLAG_C_FIXED_NEWSTYLE | (noZeroes ? Nbd.FLAG_C_NO_ZEROES : 0));
                c.option(Nbd.OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
                assertEquals(RAM_SIZE, c.in.readLong());
                assertEquals(Nbd.FLAG_HAS_FLAGS, c.in.readUnsignedShort() & Nbd.FLAG_HAS_FLAGS);
                if (!noZeroes) {
                    byte[] zeroes = new byte[124];
                    c.in.readFully(zeroes);
                    assertArrayEquals(new byte[124], zeroes);
                }
                assertEquals(0, c.read(7, 512, 512).error());
            }
        }
    }

    @Test
    void structuredRepliesAreNegotiatedOnce() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.optReply().type());
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type());
            assertEquals(Nbd.REP_ACK, c.go("disk").type());
            assertTrue((c.transmissionFlags & Nbd.FLAG_SEND_DF) != 0);
        }
    }

    @Test
    void emptyNameIsTheDefaultExportOnlyWhenThereIsOne() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.go("").type(), "four exports: no default");
        }
        try (NbdServer one = NbdServer.builder().port(0).device("only", new BlockBackend(ram.disk), false).start();
                RawClient c = RawClient.negotiate(one.port())) {
            assertEquals(Nbd.REP_ACK, c.info(Nbd.OPT_GO, "").type());
            assertEquals("only", new String(c.infos.get(Nbd.INFO_NAME), StandardCharsets.UTF_8), "the canonical name is sent back");
        }
    }

    @Test
    void abortIsAcknowledgedThenClosed() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.option(Nbd.OPT_ABORT, new byte[0]);
            RawClient.OptReply r = c.optReply();
            assertEquals(Nbd.OPT_ABORT, r.option());
            assertEquals(Nbd.REP_ACK, r.type());
            assertTrue(c.closedByServer());
        }
        assertServerStillServes();
    }

    @Test
    void unknownOptionsAreUnsupportedAndTheSessionGoesOn() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            for (int option : new int[] {0x1234, Nbd.OPT_STARTTLS, 11 /* EXTENDED_HEADERS */}) {
                c.option(option, new byte[] {1, 2, 3, 4, 5});
                RawClient.OptReply r = c.optReply();
                assertEquals(option, r.option());
                assertEquals(Nbd.REP_ERR_UNSUP, r.type(), r::toString);
            }
            assertEquals(Nbd.REP_ACK, c.go("disk").type());
        }
    }

    @Test
    void unknownExportIsRefusedAndTheSessionGoesOn() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            RawClient.OptReply r = c.info(Nbd.OPT_INFO, "nope");
            assertEquals(Nbd.REP_ERR_UNKNOWN, r.type());
            assertTrue(r.text().contains("nope"), r.text());
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.go("nope").type());
            assertEquals(Nbd.REP_ACK, c.go("disk").type());
        }
    }

    @Test
    void malformedOptionsAreInvalid() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.option(Nbd.OPT_GO, new byte[] {0, 0, 0});
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "shorter than 6 bytes");
            c.option(Nbd.OPT_GO, ByteBuffer.allocate(10).putInt(100).array());
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "name length overruns the option");
            byte[] twoInfosClaimed = ByteBuffer.allocate(4 + 4 + 2 + 2).putInt(4).put("disk".getBytes(StandardCharsets.UTF_8)).putShort((short) 2)
                    .putShort((short) Nbd.INFO_NAME).array();
            c.option(Nbd.OPT_INFO, twoInfosClaimed);
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "information request count does not match the length");
            c.option(Nbd.OPT_LIST, new byte[] {1});
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "LIST with data");
            c.option(Nbd.OPT_STRUCTURED_REPLY, new byte[] {1});
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "STRUCTURED_REPLY with data");
            c.option(Nbd.OPT_GO, RawClient.infoRequest("bad\0name"));
            assertEquals(Nbd.REP_ERR_INVALID, c.optReply().type(), "NUL in a name");
            c.option(0x77, new byte[100 * 1024]);
            assertEquals(Nbd.REP_ERR_TOO_BIG, c.optReply().type(), "100 KiB of option data");
            assertEquals(Nbd.REP_ACK, c.go("disk").type(), "the session survives all of it");
        }
        assertServerStillServes();
    }

    @Test
    void unknownClientFlagsAreDisconnected() throws IOException {
        try (RawClient c = RawClient.connect(port())) {
            c.clientFlags(Nbd.FLAG_C_FIXED_NEWSTYLE | 0x80);
            assertTrue(c.closedByServer());
        }
        assertServerStillServes();
    }

    @Test
    void badOptionMagicIsDisconnected() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.out.writeLong(0x1122334455667788L);
            c.out.writeInt(Nbd.OPT_LIST);
            c.out.writeInt(0);
            c.out.flush();
            assertTrue(c.closedByServer());
        }
        assertServerStillServes();
    }

    @Test
    void exportNameForAnUnknownExportIsDisconnected() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.option(Nbd.OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer(), "EXPORT_NAME cannot be refused with an error: the server must hang up");
        }
        assertServerStillServes();
    }

    @Test
    void hugeOptionLengthIsDisconnected() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.out.writeLong(Nbd.IHAVEOPT);
            c.out.writeInt(Nbd.OPT_INFO);
            c.out.writeInt(0x7fffffff);
            c.out.flush();
            assertTrue(c.closedByServer());
        }
        assertServerStillServes();
    }

    @Test
    void clientVanishingMidHandshakeLeavesTheServerServing() throws IOException {
        try (RawClient c = RawClient.negotiate(port())) {
            c.out.writeLong(Nbd.IHAVEOPT);
            c.out.writeInt(Nbd.OPT_GO);
            c.out.writeInt(40);
            c.out.write(new byte[10]); // 30 bytes short
            c.out.flush();
        }
        try (RawClient c = RawClient.connect(port())) {
            c.out.write(new byte[] {1}); // not even the client flags
            c.out.flush();
        }
        assertServerStillServes();
        assertFalse(server.exportNames().isEmpty());
    }
}
