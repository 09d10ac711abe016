package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.InPlaceWrite;
import org.dmstack.block.QueueLimits;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.NbdServer;
import org.dmstack.nbd.server.RawClient;
import org.dmstack.units.Units;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Large WRITEs read from the socket straight into memory a device stages ({@link InPlaceWrite}), committed once all of it came. */
class InPlaceWriteTest {
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

    /** A MemDisk that stages writes in memory of its own, in two pieces, and copies them in on commit, counting. */
    private static final class Staging implements InPlaceWrite {
        final MemDisk mem = new MemDisk(4 << 20);
        final AtomicInteger stages = new AtomicInteger(), commits = new AtomicInteger(), aborts = new AtomicInteger();
        volatile boolean refuseCommit;
        final GenDisk disk = GenDisk.builder("ram7", new DevT(DevT.RAMDISK_MAJOR, 7), (4 << 20) >> Units.SECTOR_SHIFT, mem)
                .limits(QueueLimits.of(512, 4096)).inPlaceWrite(this).build();

        Staging() {
            mem.disk = disk;
        }

        @Override
        public Staged stage(long offset, long bytes, Consumer<MemorySegment> into) {
            stages.incrementAndGet();
            MemorySegment fresh = Arena.ofAuto().allocate(bytes);
            into.accept(fresh.asSlice(0, bytes / 2));
            into.accept(fresh.asSlice(bytes / 2));
            return new Staged() {
                boolean ended;

                @Override
                public boolean commit() {
                    if (refuseCommit) return false;
                    MemorySegment.copy(fresh, 0, mem.memory, offset, bytes);
                    commits.incrementAndGet();
                    ended = true;
                    return true;
                }

                @Override
                public void abort() {
                    if (!ended) aborts.incrementAndGet();
                    ended = true;
                }
            };
        }
    }

    @Test
    void largeWritesAreReadIntoStagedMemoryAndCommittedSmallOnesAreBios() throws Exception {
        Staging staging = new Staging();
        registry.add(staging.disk);
        NbdServer server = serve("ram7");
        byte[] large = ServerFixture.pattern(1 << 20, 3), medium = ServerFixture.pattern(32 << 10, 4), small = ServerFixture.pattern(4096, 5);
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertEquals(0, c.write(1, 1 << 20, large).error());
            assertEquals(0, c.write(2, 3 << 20, medium).error());
            assertEquals(0, c.write(3, 0, small).error());
            assertArrayEquals(large, c.read(4, 1 << 20, 1 << 20).data());
            assertArrayEquals(medium, c.read(5, 3 << 20, 32 << 10).data());
            assertArrayEquals(small, c.read(6, 0, 4096).data());
            c.disconnect();
        }
        assertEquals(2, staging.commits.get(), "1 MiB and 32 KiB (half the read-ahead) in place");
        assertEquals(0, staging.aborts.get());
        assertEquals(1, staging.mem.count(BioOp.WRITE), "4 KiB as a bio");
    }

    @Test
    void aStagingWhosePayloadNeverCompletesIsAbortedNotCommitted() throws Exception {
        Staging staging = new Staging();
        registry.add(staging.disk);
        NbdServer server = serve("ram7");
        RawClient gone = RawClient.open(server.port(), "disk");
        gone.request(0, Nbd.CMD_WRITE, 1, 0, 1 << 20, new byte[300 << 10]);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (staging.stages.get() == 0) {
            assertTrue(System.nanoTime() < deadline, "never staged");
            Thread.sleep(5);
        }
        gone.socket.setSoLinger(true, 0);
        gone.close();
        while (staging.aborts.get() == 0) {
            assertTrue(System.nanoTime() < deadline, "never aborted");
            Thread.sleep(5);
        }
        assertEquals(0, staging.commits.get());
        assertEquals(0, staging.mem.count(BioOp.WRITE));
        assertArrayEquals(new byte[1 << 20], staging.mem.memory.asSlice(0, 1 << 20).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Test
    void aClientGoneInTheMiddleOfItsPayloadChangesNothing() throws Exception {
        Brd brd = new Brd(registry, new BrdConfig(1, 4096)); // 4 MiB
        toClose.add(brd::destroy);
        NbdServer server = serve("ram0");
        byte[] before = ServerFixture.pattern(1 << 20, 6);
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertEquals(0, c.write(1, 1 << 20, before).error());
            c.disconnect();
        }
        RawClient gone = RawClient.open(server.port(), "disk");
        gone.request(0, Nbd.CMD_WRITE, 2, 1 << 20, 1 << 20, Arrays.copyOf(ServerFixture.pattern(1 << 20, 7), 600 << 10));
        Thread.sleep(100); // the server reads what came into the staged pages
        gone.socket.setSoLinger(true, 0);
        gone.close();
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertArrayEquals(before, c.read(3, 1 << 20, 1 << 20).data(), "the pages kept their data");
            byte[] after = ServerFixture.pattern(2 << 20, 8);
            assertEquals(0, c.write(4, 0, after).error());
            assertArrayEquals(after, c.read(5, 0, 2 << 20).data());
            c.disconnect();
        }
        assertEquals(2L << 20 >> Units.PAGE_SHIFT, Long.parseLong(registry.lookup("ram0").attributes().read("brd/pages").trim()),
                "the aborted staging's pages went back, the replaced ones too");
    }

    @Test
    void aCommitRefusedBecauseTheDeviceWentAwayIsWrittenFromACopyAsBios() throws Exception {
        Staging staging = new Staging();
        staging.refuseCommit = true;
        registry.add(staging.disk);
        NbdServer server = serve("ram7");
        byte[] data = ServerFixture.pattern(256 << 10, 9);
        try (RawClient c = RawClient.open(server.port(), "disk")) {
            assertEquals(0, c.write(1, 64 << 10, data).error());
            assertArrayEquals(data, c.read(2, 64 << 10, 256 << 10).data());
            c.disconnect();
        }
        assertEquals(1, staging.stages.get());
        assertEquals(0, staging.commits.get());
        assertEquals(1, staging.aborts.get(), "the staged memory dropped once copied");
        assertTrue(staging.mem.count(BioOp.WRITE) > 0, "written as bios");
    }

    @Test
    void aWithdrawnBackendADeadDiskOrADiskWithAWriteCacheStagesNothing() {
        Staging staging = new Staging();
        List<ByteBuffer> into = new ArrayList<>();
        BlockBackend withdrawn = new BlockBackend(staging.disk);
        withdrawn.withdraw();
        assertNull(withdrawn.stageWrite(0, 65536, into));
        staging.disk.del();
        assertNull(new BlockBackend(staging.disk).stageWrite(0, 65536, into));
        MemDisk cached = new MemDisk(1 << 20);
        GenDisk withCache = GenDisk.builder("ram8", new DevT(DevT.RAMDISK_MAJOR, 8), 2048, cached).writeCache(true, true)
                .inPlaceWrite(new Staging()).build();
        assertNull(new BlockBackend(withCache).stageWrite(0, 65536, into), "a commit would not be durable");
        assertEquals(List.of(), into);
        assertEquals(0, staging.stages.get());
        assertNull(new BlockBackend(MemDisk.of("ram1", 1, 1 << 20).disk).stageWrite(0, 65536, into), "a driver that stages nothing");
    }

    @Test
    void aBackendThatWithdrawsBeforeTheCommitRefusesIt() {
        Staging staging = new Staging();
        List<ByteBuffer> into = new ArrayList<>();
        BlockBackend backend = new BlockBackend(staging.disk);
        var staged = backend.stageWrite(4096, 8192, into);
        assertEquals(2, into.size());
        backend.withdraw();
        assertEquals(false, staged.commit());
        staged.abort();
        assertEquals(1, staging.aborts.get());
        assertEquals(0, staging.commits.get());
    }
}
