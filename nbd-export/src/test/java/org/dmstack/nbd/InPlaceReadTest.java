package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.InPlaceRead;
import org.dmstack.block.QueueLimits;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.dmstack.units.Units;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** READ replies sent straight from a device's memory ({@link InPlaceRead}), pinned until they are out. */
class InPlaceReadTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : toClose.reversed()) c.close();
    }

    private NbdServer serve(String source) throws IOException {
        NbdServer server = NbdServer.builder().backends(new BlockBackends(registry)).port(0).export("disk=" + source).start();
        toClose.add(server);
        return server;
    }

    /** A MemDisk whose memory is lent in place, counting pins and unpins. */
    private static final class Lending implements InPlaceRead {
        final MemDisk mem = new MemDisk(1 << 20);
        final AtomicInteger pins = new AtomicInteger(), unpins = new AtomicInteger();
        final GenDisk disk = GenDisk.builder("ram7", new DevT(DevT.RAMDISK_MAJOR, 7), (1 << 20) >> Units.SECTOR_SHIFT, mem)
                .limits(QueueLimits.of(512, 4096)).inPlaceRead(this).build();

        Lending() {
            mem.disk = disk;
        }

        @Override
        public boolean pin(long offset, long bytes, Consumer<MemorySegment> into) {
            pins.incrementAndGet();
            into.accept(mem.memory.asSlice(offset, bytes / 2)); // two pieces: the reply gathers them
            into.accept(mem.memory.asSlice(offset + bytes / 2, bytes - bytes / 2));
            return true;
        }

        @Override
        public void unpin() {
            unpins.incrementAndGet();
        }
    }

    @Test
    void readsOfABrdDiskComeFromItsPagesByteForByteHolesAsZeros() throws Exception {
        Brd brd = new Brd(registry, new BrdConfig(1, 4096)); // 4 MiB
        toClose.add(brd::destroy);
        NbdServer server = serve("ram0");
        byte[] data = ServerFixture.pattern(1 << 20, 7);
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertEquals(0, c.write(1, 1 << 20, data).error());
            assertEquals(0, c.write(2, 3 << 20, Arrays.copyOf(data, 4096)).error());
            // Written pages, a hole and pages again, several requests in flight at once.
            long[] offsets = {(1 << 20) - 4096, 1 << 20, (3 << 20) - 8192, 1 << 20};
            int[] lengths = {1 << 20, 4096, 12288, 1 << 20};
            for (int i = 0; i < offsets.length; i++) c.request(0, Nbd.CMD_READ, i, offsets[i], lengths[i], null);
            byte[] image = new byte[4 << 20];
            System.arraycopy(data, 0, image, 1 << 20, data.length);
            System.arraycopy(data, 0, image, 3 << 20, 4096);
            for (int i = 0; i < offsets.length; i++) {
                RawClient.Reply r = c.simpleReply(h -> lengths[(int) h]);
                int h = (int) r.handle();
                assertEquals(0, r.error());
                assertArrayEquals(Arrays.copyOfRange(image, (int) offsets[h], (int) offsets[h] + lengths[h]), r.data(), "read " + h);
            }
            c.disconnect();
        }
        assertEquals(0, ((GenDisk) registry.lookup("ram0")).stats().snapshot().readIos(), "brd counts nothing, as 6.1's");
    }

    @Test
    void eachReplyPinsOnceAndUnpinsOnceItIsOutWithNoBio() throws Exception {
        Lending lending = new Lending();
        registry.add(lending.disk);
        NbdServer server = serve("ram7");
        byte[] data = ServerFixture.pattern(256 << 10, 3);
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertEquals(0, c.write(1, 64 << 10, data).error());
            for (int i = 0; i < 16; i++) c.request(0, Nbd.CMD_READ, i, (64 << 10) + i * 4096L, 4096, null);
            for (int i = 0; i < 16; i++) {
                RawClient.Reply r = c.simpleReply(4096);
                assertArrayEquals(Arrays.copyOfRange(data, (int) r.handle() * 4096, (int) r.handle() * 4096 + 4096), r.data());
            }
            RawClient.Reply whole = c.read(99, 64 << 10, 256 << 10);
            assertArrayEquals(data, whole.data());
            c.disconnect();
        }
        assertEquals(17, lending.pins.get());
        awaitUnpins(lending);
        assertEquals(0, lending.mem.count(BioOp.READ), "no read bio");
    }

    @Test
    void withStructuredRepliesTheDataComesInOneOffsetDataChunk() throws Exception {
        Lending lending = new Lending();
        registry.add(lending.disk);
        NbdServer server = serve("ram7");
        byte[] data = ServerFixture.pattern(64 << 10, 5);
        try (RawClient c = RawClient.openStructured(server.port(), "disk")) {
            assertEquals(0, c.write(1, 8192, data).error());
            c.request(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 2, 8192, data.length, null);
            c.assertOffsetData(2, 8192, data);
        }
        assertEquals(1, lending.pins.get());
        awaitUnpins(lending);
    }

    @Test
    void aClientGoneBeforeReadingItsRepliesLeavesNothingPinned() throws Exception {
        Lending lending = new Lending();
        registry.add(lending.disk);
        NbdServer server = serve("ram7");
        RawClient c = RawClient.open(server.port(), "disk");
        for (int i = 0; i < 64; i++) c.request(0, Nbd.CMD_READ, i, 0, 512 << 10, null); // 32 MiB of replies, never read
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lending.pins.get() < 8 && System.nanoTime() < deadline) Thread.sleep(5); // the socket buffers fill up
        assertTrue(lending.pins.get() >= 8, "the server answered in place: " + lending.pins.get());
        c.socket.setSoLinger(true, 0);
        c.close();
        awaitUnpins(lending);
    }

    @Test
    void aWithdrawnBackendOrADeadDiskLendsNothing() {
        Lending lending = new Lending();
        List<ByteBuffer> into = new ArrayList<>();
        BlockBackend withdrawn = new BlockBackend(lending.disk);
        withdrawn.withdraw();
        assertFalse(withdrawn.pinForRead(0, 4096, into));
        lending.disk.del();
        assertFalse(new BlockBackend(lending.disk).pinForRead(0, 4096, into));
        assertEquals(List.of(), into);
        assertEquals(0, lending.pins.get());
        assertFalse(new BlockBackend(MemDisk.of("ram1", 1, 1 << 20).disk).pinForRead(0, 4096, into), "a driver that lends nothing");
    }

    /** Waits (boundedly) until every pin was given back: the unpin follows the reply's write, which the client may see first. */
    private static void awaitUnpins(Lending lending) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (lending.unpins.get() != lending.pins.get() && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(lending.pins.get(), lending.unpins.get(), "every pin given back");
    }
}
