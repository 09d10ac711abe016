package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.BioOp;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.junit.jupiter.api.Test;

/** Commands, good and bad, with the exact error each bad one gets. */
class TransmissionTest extends ServerFixture {

    @Test
    void writeThenReadIsByteExactAndLandsAtTheSector() throws IOException {
        byte[] data = pattern(64 * 1024, 1);
        try (RawClient c = RawClient.open(port(), "disk")) {
            RawClient.Reply w = c.write(0x1111, 1 << 20, data);
            assertEquals(0, w.error());
            assertEquals(0x1111, w.handle());
            RawClient.Reply r = c.read(0x2222, 1 << 20, data.length);
            assertEquals(0x2222, r.handle());
            assertArrayEquals(data, r.data());
            c.disconnect();
            assertTrue(c.closedByServer());
        }
        assertArrayEquals(data, bytesAt(ram, 2048, data.length), "offset 1 MiB is sector 2048 of ram0");
    }

    @Test
    void requestsLargerThanMaxSectorsAreSplitLikeTheBlockLayerSplitsBios() throws IOException {
        byte[] data = pattern(2 << 20, 2);
        try (RawClient c = RawClient.open(port(), "disk")) {
            assertEquals(0, c.write(1, 0, data).error());
            assertArrayEquals(data, c.read(2, 0, data.length).data());
        }
        assertEquals(List.of("WRITE 0 1310720", "WRITE 2560 786432"), ram.log.stream().filter(s -> s.startsWith("WRITE ")).toList());
        assertArrayEquals(data, bytesAt(ram, 0, data.length));
    }

    @Test
    void thirtyTwoMebibytesIsTheLimit() throws IOException {
        MemDisk big = MemDisk.of("ram9", 9, 33 << 20);
        try (NbdServer s = NbdServer.builder().port(0).device("big", new BlockBackend(big.disk), false).start(); RawClient c = RawClient.open(s.port(), "big")) {
            byte[] data = pattern(32 << 20, 3);
            assertEquals(0, c.write(1, 512, data).error(), "exactly 32 MiB is accepted");
            assertArrayEquals(data, c.read(2, 512, 32 << 20).data());

            assertEquals(Nbd.EINVAL, c.read(3, 0, (32 << 20) + 512).error(), "a read over 32 MiB is invalid");
            byte[] over = new byte[(32 << 20) + 512];
            assertEquals(Nbd.EINVAL, c.write(4, 0, over).error(), "a write over 32 MiB is invalid, and its payload is skipped");
            assertArrayEquals(Arrays.copyOf(data, 4096), bytesAt(big, 1, 4096), "nothing of the refused write was written");
            assertEquals(0, c.read(5, 0, 512).error(), "the connection is still in step");
        }
    }

    @Test
    void flushReachesTheDeviceWhenItHasAWriteCache() throws IOException {
        try (RawClient c = RawClient.open(port(), "pmem")) {
            c.request(0, Nbd.CMD_FLUSH, 9, 0, 0, null);
            assertEquals(0, c.reply().error());
        }
        assertEquals(1, pmem.count(BioOp.FLUSH));
    }

    @Test
    void fuaGoesToADeviceWithFua() throws IOException {
        try (RawClient c = RawClient.open(port(), "pmem")) {
            c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 1, 4096, 512, pattern(512, 4));
            assertEquals(0, c.reply().error());
        }
        assertEquals(List.of("WRITE[FUA] 8 512"), pmem.log);
    }

    @Test
    void fuaOnADeviceWithoutFuaIsAWriteThenAFlush() throws IOException {
        try (RawClient c = RawClient.open(port(), "wc")) {
            c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 1, 8192, 4096, pattern(4096, 5));
            assertEquals(0, c.reply().error());
            c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE_ZEROES, 2, 8192, 4096, null);
            assertEquals(0, c.reply().error());
        }
        assertEquals(List.of("WRITE 16 4096", "FLUSH[PREFLUSH] 0 0", "WRITE_ZEROES 16 4096", "FLUSH[PREFLUSH] 0 0"), wc.log);
    }

    @Test
    void fuaIsInvalidWhereItWasNotOffered() throws IOException {
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.request(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 1, 0, 512, pattern(512, 6));
            assertEquals(Nbd.EINVAL, c.reply().error());
            assertEquals(0, c.read(2, 0, 512).error(), "the payload was consumed; the connection is in step");
        }
        assertEquals(0, ram.count(BioOp.WRITE));
    }

    @Test
    void trimAndWriteZeroesZeroTheRange() throws IOException {
        byte[] data = pattern(8192, 7);
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.write(1, 0, data);
            c.request(0, Nbd.CMD_TRIM, 2, 0, 4096, null);
            assertEquals(0, c.reply().error());
            c.request(0, Nbd.CMD_WRITE_ZEROES, 3, 4096, 4096, null);
            assertEquals(0, c.reply().error());
            assertArrayEquals(new byte[8192], c.read(4, 0, 8192).data());
        }
        assertEquals(1, ram.count(BioOp.DISCARD));
        assertEquals(1, ram.count(BioOp.WRITE_ZEROES));
    }

    @Test
    void writeZeroesWithNoHoleOrWithoutDeviceSupportWritesZeroPages() throws IOException {
        ram.writeZeroesSupported = false;
        ram.discardSupported = false;
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.write(1, 0, pattern(8192, 8));
            c.request(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE_ZEROES, 2, 0, 4096, null);
            assertEquals(0, c.reply().error());
            c.request(0, Nbd.CMD_WRITE_ZEROES, 3, 4096, 4096, null);
            assertEquals(0, c.reply().error(), "a device without WRITE_ZEROES gets zero pages written");
            c.request(0, Nbd.CMD_TRIM, 4, 0, 4096, null);
            assertEquals(0, c.reply().error(), "TRIM is a hint: a device without discard is fine");
            assertArrayEquals(new byte[8192], c.read(5, 0, 8192).data());
        }
        assertEquals(List.of("WRITE 0 8192", "WRITE 0 4096", "WRITE 8 4096"), ram.log.stream().filter(s -> s.startsWith("WRITE ")).toList(),
                "NO_HOLE never tries WRITE_ZEROES; NOTSUPP falls back to zero pages");
        assertEquals(1, ram.count(BioOp.WRITE_ZEROES), "the one WRITE_ZEROES tried (without NO_HOLE), refused by the device");
    }

    @Test
    void beyondTheEndIsEnospcForWritesAndEinvalOtherwise() throws IOException {
        byte[] before = bytesAt(ram, RAM_SIZE / 512 - 1, 512);
        try (RawClient c = RawClient.open(port(), "disk")) {
            assertEquals(Nbd.ENOSPC, c.write(1, RAM_SIZE - 512, new byte[1024]).error());
            c.request(0, Nbd.CMD_WRITE_ZEROES, 2, RAM_SIZE, 512, null);
            assertEquals(Nbd.ENOSPC, c.reply().error());
            c.request(0, Nbd.CMD_READ, 3, RAM_SIZE - 512, 1024, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(1024).error(), "no data follows an error");
            c.request(0, Nbd.CMD_TRIM, 4, RAM_SIZE, 512, null);
            assertEquals(Nbd.EINVAL, c.reply().error());
            c.request(0, Nbd.CMD_READ, 5, 0x8000_0000_0000_0000L, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(512).error(), "offsets are unsigned");
            assertEquals(0, c.read(6, RAM_SIZE - 512, 512).error());
        }
        assertArrayEquals(before, bytesAt(ram, RAM_SIZE / 512 - 1, 512), "nothing was half-written");
        assertEquals(0, ram.count(BioOp.WRITE) + ram.count(BioOp.WRITE_ZEROES) + ram.count(BioOp.DISCARD));
    }

    @Test
    void writesToAReadOnlyExportAreEperm() throws IOException {
        byte[] before = bytesAt(ram, 0, 4096);
        try (RawClient c = RawClient.open(port(), "ro")) {
            assertTrue((c.transmissionFlags & Nbd.FLAG_READ_ONLY) != 0);
            assertEquals(Nbd.EPERM, c.write(1, 0, pattern(4096, 9)).error());
            c.request(0, Nbd.CMD_TRIM, 2, 0, 4096, null);
            assertEquals(Nbd.EPERM, c.reply().error());
            c.request(0, Nbd.CMD_WRITE_ZEROES, 3, 0, 4096, null);
            assertEquals(Nbd.EPERM, c.reply().error());
            assertEquals(Nbd.EPERM, c.write(4, RAM_SIZE, new byte[512]).error(), "read-only comes before the range");
            RawClient.Reply r = c.read(5, 0, 4096);
            assertEquals(0, r.error());
            assertArrayEquals(before, r.data());
        }
        assertArrayEquals(before, bytesAt(ram, 0, 4096));
    }

    @Test
    void aDiskMadeReadOnlyIsExportedReadOnlyWhateverTheConfigurationSays() throws IOException {
        MemDisk disk = MemDisk.of("ram9", 9, 1 << 20);
        disk.disk.setReadOnly(true);
        try (NbdServer s = NbdServer.builder().port(0).device("rodisk", new BlockBackend(disk.disk), false).start()) {
            try (RawClient c = RawClient.open(s.port(), "rodisk")) {
                assertTrue((c.transmissionFlags & Nbd.FLAG_READ_ONLY) != 0, "as set_disk_ro makes the disk");
                assertEquals(0, c.transmissionFlags & (Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES));
                assertEquals(Nbd.EPERM, c.write(1, 0, pattern(4096, 3)).error());
                assertEquals(0, c.read(2, 0, 4096).error());
                disk.disk.setReadOnly(false);
                assertEquals(0, c.write(3, 0, pattern(4096, 3)).error(), "writable again: writes go through");
            }
            try (RawClient c = RawClient.open(s.port(), "rodisk")) {
                assertEquals(0, c.transmissionFlags & Nbd.FLAG_READ_ONLY);
            }
        }
        assertEquals(1, disk.count(BioOp.WRITE));
    }

    @Test
    void unknownCommandsAndFlagsAreEinval() throws IOException {
        try (RawClient c = RawClient.open(port(), "disk")) {
            for (int type : new int[] {5 /* CACHE */, 7 /* BLOCK_STATUS */, 8 /* RESIZE */, 0x7777}) {
                c.request(0, type, type, 0, 512, null);
                RawClient.Reply r = c.reply();
                assertEquals(Nbd.EINVAL, r.error(), "command " + type);
                assertEquals(type, r.handle());
            }
            c.request(0x8000, Nbd.CMD_READ, 1, 0, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(512).error(), "unknown flag");
            c.request(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 2, 0, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(512).error(), "DF without structured replies");
            c.request(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_TRIM, 3, 0, 512, null);
            assertEquals(Nbd.EINVAL, c.reply().error(), "NO_HOLE belongs to WRITE_ZEROES only");
            c.request(0, Nbd.CMD_FLUSH, 4, 512, 0, null);
            assertEquals(Nbd.EINVAL, c.reply().error(), "FLUSH with an offset");
            assertEquals(0, c.read(5, 0, 512).error());
        }
    }

    @Test
    void misalignedRequestsAreEinval() throws IOException {
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.request(0, Nbd.CMD_READ, 1, 100, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(512).error());
            assertEquals(Nbd.EINVAL, c.write(2, 0, new byte[100]).error());
        }
        try (RawClient c = RawClient.open(port(), "wc")) {
            assertArrayEquals(new int[] {4096, 4096, 32 << 20}, c.blockSize());
            assertEquals(Nbd.EINVAL, c.write(3, 512, new byte[512]).error(), "wc0 has 4096-byte logical blocks");
            assertEquals(0, c.write(4, 4096, new byte[4096]).error());
        }
        assertEquals(0, ram.count(BioOp.WRITE));
    }

    @Test
    void zeroLengthRequestsSucceedWithoutTouchingTheDevice() throws IOException {
        try (RawClient c = RawClient.open(port(), "disk")) {
            assertEquals(0, c.write(1, 0, new byte[0]).error());
            assertEquals(0, c.read(2, 0, 0).error());
        }
        assertEquals(List.of(), ram.log);
    }

    @Test
    void badRequestMagicIsDisconnected() throws IOException {
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.out.writeInt(0x12345678);
            c.out.write(new byte[24]);
            c.out.flush();
            assertTrue(c.closedByServer());
        }
        assertServerStillServes();
    }

    @Test
    void aClientVanishingMidWriteWritesNothing() throws IOException {
        byte[] before = bytesAt(ram, 0, 65536);
        try (RawClient c = RawClient.open(port(), "disk")) {
            c.out.writeInt(Nbd.REQUEST_MAGIC);
            c.out.writeShort(0);
            c.out.writeShort(Nbd.CMD_WRITE);
            c.out.writeLong(1);
            c.out.writeLong(0);
            c.out.writeInt(65536);
            c.out.write(pattern(1000, 10)); // and then it is gone
            c.out.flush();
        }
        assertServerStillServes(); // its write lands at the end of the disk, not at 0
        assertArrayEquals(before, bytesAt(ram, 0, 65536));
        assertTrue(ram.log.stream().noneMatch(s -> s.startsWith("WRITE 0 ")), ram.log::toString);
    }

    @Test
    void structuredRepliesCarryDataAndErrorMessages() throws IOException {
        byte[] data = pattern(4096, 11);
        try (RawClient c = RawClient.openStructured(port(), "disk")) {
            assertEquals(0, c.write(1, 8192, data).error(), "a successful write gets a simple reply");

            c.request(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 2, 8192, 4096, null);
            c.assertOffsetData(2, 8192, data);

            c.request(0, Nbd.CMD_READ, 3, RAM_SIZE, 512, null);
            RawClient.Chunk error = c.chunk();
            assertEquals(Nbd.REPLY_TYPE_ERROR, error.type());
            assertEquals(Nbd.REPLY_FLAG_DONE, error.flags());
            assertEquals(Nbd.EINVAL, error.error());
            assertTrue(error.message().contains("beyond the end"), error.message());

            c.request(0, Nbd.CMD_READ, 4, 0, 0, null);
            assertEquals(Nbd.REPLY_TYPE_NONE, c.chunk().type(), "an empty read ends with a NONE chunk");
        }
    }

    /** Queues a request on the client's buffered stream without sending it yet. */
    private static void queue(RawClient c, int type, long handle, long offset, int length, byte[] payload) throws IOException {
        c.out.writeInt(Nbd.REQUEST_MAGIC);
        c.out.writeShort(0);
        c.out.writeShort(type);
        c.out.writeLong(handle);
        c.out.writeLong(offset);
        c.out.writeInt(length);
        if (payload != null) c.out.write(payload);
    }

    @Test
    void requestsSentBackToBackAreEachAnsweredOnceByteExact() throws IOException {
        // Small payloads are taken from the read-ahead buffer, a 1 MiB one is read past it; the
        // replies the reader holds back go out in batches, each exactly once.
        byte[] old = pattern(512 * 1024, 20);
        try (RawClient c = RawClient.open(port(), "disk")) {
            assertEquals(0, c.write(1, 0, old).error());
            byte[] big = pattern(1 << 20, 21);
            for (int i = 0; i < 100; i++) queue(c, Nbd.CMD_WRITE, 100 + i, (1 << 20) + i * 4096L, 4096, pattern(4096, 100 + i));
            queue(c, Nbd.CMD_WRITE, 999, 2 << 20, big.length, big);
            for (int i = 0; i < 200; i++) queue(c, Nbd.CMD_READ, 1000 + i, (i % 128) * 4096L, 4096, null);
            c.out.flush();
            boolean[] seen = new boolean[1200];
            for (int n = 0; n < 301; n++) {
                RawClient.Reply r = c.simpleReply(h -> h >= 1000 ? 4096 : 0);
                assertEquals(0, r.error(), "handle " + r.handle());
                assertTrue(!seen[(int) r.handle()], "handle " + r.handle() + " answered twice");
                seen[(int) r.handle()] = true;
                if (r.handle() >= 1000) {
                    int block = (int) (r.handle() - 1000) % 128;
                    assertArrayEquals(Arrays.copyOfRange(old, block * 4096, block * 4096 + 4096), r.data(), "read " + r.handle());
                }
            }
            for (int i = 0; i < 100; i++) assertArrayEquals(pattern(4096, 100 + i), bytesAt(ram, 2048 + i * 8L, 4096), "write " + i);
            assertArrayEquals(big, bytesAt(ram, 4096, big.length));
        }
    }

    @Test
    void repliesFromOtherThreadsGoOutBesideTheReadersEachOnceByteExact() throws Exception {
        // FLUSHes run on threads of their own and are answered through the connection's sender,
        // while the reader answers READs of every size itself: each reply arrives whole, once,
        // and the sender gives its thread back when the connection ends.
        byte[] disk = pattern(4 << 20, 23);
        try (RawClient c = RawClient.open(port(), "disk")) {
            assertEquals(0, c.write(1, 0, disk).error());
            int[] lengths = {1 << 20, 4096, 0, 128 << 10, 4096, 0, 2 << 20, 64 << 10}; // 0: a FLUSH
            int requests = 200;
            for (int i = 0; i < requests; i++) {
                int length = lengths[i % lengths.length];
                if (length == 0) queue(c, Nbd.CMD_FLUSH, 1000 + i, 0, 0, null);
                else queue(c, Nbd.CMD_READ, 1000 + i, offset(i, length), length, null);
            }
            c.out.flush();
            boolean[] seen = new boolean[requests];
            for (int n = 0; n < requests; n++) {
                RawClient.Reply r = c.simpleReply(h -> lengths[(int) (h - 1000) % lengths.length]);
                int i = (int) r.handle() - 1000;
                assertEquals(0, r.error(), "handle " + r.handle());
                assertTrue(!seen[i], "handle " + r.handle() + " answered twice");
                seen[i] = true;
                int length = lengths[i % lengths.length];
                assertArrayEquals(Arrays.copyOfRange(disk, offset(i, length), offset(i, length) + length), r.data(), "request " + r.handle());
            }
        }
        ExportsFollowDevicesTest.eventually("the sender is done with its thread when its connection ends", () -> Thread.getAllStackTraces().values().stream()
                .flatMap(Arrays::stream).noneMatch(f -> f.getClassName().equals("org.dmstack.nbd.server.Sender") && f.getMethodName().equals("run")));
    }

    private static int offset(int i, int length) {
        return (int) ((i * 4096L) % ((4 << 20) - length + 1)) & -4096;
    }

    @Test
    void heldBackRepliesGoOutBeforeTheReaderWaitsForAPermit() throws IOException {
        // With room for one 4 KiB payload in flight, the reply the reader holds back is what
        // frees the next request's permit: were it not sent first, the connection would wait for ever.
        byte[] data = pattern(64 * 4096, 22);
        try (NbdServer tight = NbdServer.builder().backends(new BlockBackends(registry)).export("disk=ram0").port(0).maxInflightBytes(4096).start();
                RawClient c = RawClient.open(tight.port(), "disk")) {
            assertEquals(0, c.write(1, 0, data).error());
            for (int i = 0; i < 64; i++) queue(c, Nbd.CMD_READ, 100 + i, i * 4096L, 4096, null);
            c.out.flush();
            for (int i = 0; i < 64; i++) {
                RawClient.Reply r = c.simpleReply(4096);
                assertEquals(100 + i, r.handle(), "one at a time, in order");
                assertArrayEquals(Arrays.copyOfRange(data, i * 4096, i * 4096 + 4096), r.data());
            }
        }
    }
}
