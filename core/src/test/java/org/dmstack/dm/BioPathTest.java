package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bios through a mapped device: split at target ends and max_io_len, flushes, data in the right place. */
class BioPathTest {
    private final DmFixture f = new DmFixture();

    @AfterEach
    void close() {
        f.close();
    }

    private static MemorySegment pattern(int bytes, int seed) {
        MemorySegment s = Arena.ofAuto().allocate(bytes);
        for (int i = 0; i < bytes; i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        return s;
    }

    @Test
    void aBioAcrossTargetsIsSplitAndLandsOnEachDevice() {
        BlockDevice md = f.dm.create("lv", "0 16 testlinear ram0 100\n16 16 testlinear ram1 200").disk();
        f.ram0.logging = true;
        f.ram1.logging = true;
        MemorySegment data = pattern(24 * 512, 7);
        Bio write = Bio.write(4, data);
        md.submit(write);
        assertEquals(BlkStatus.OK, write.await());
        assertEquals(List.of("WRITE 104+12"), f.ram0.log);
        assertEquals(List.of("WRITE 200+12"), f.ram1.log);
        assertArrayEquals(data.asSlice(0, 12 * 512).toArray(ValueLayout.JAVA_BYTE), f.ram0.read(104 * 512, 12 * 512));
        assertArrayEquals(data.asSlice(12 * 512, 12 * 512).toArray(ValueLayout.JAVA_BYTE), f.ram1.read(200 * 512, 12 * 512));

        MemorySegment back = Arena.ofAuto().allocate(24 * 512);
        Bio read = Bio.read(4, back);
        md.submit(read);
        assertEquals(BlkStatus.OK, read.await());
        assertEquals(-1, back.mismatch(data));
    }

    @Test
    void aBioInsideOneTargetGoesDownAsTheCloneKeptWithItAndTheDeviceGetsThatClone() {
        java.util.List<Bio> seen = new java.util.ArrayList<>();
        java.util.List<String> what = new java.util.ArrayList<>();
        java.util.List<MemorySegment> buffers = new java.util.ArrayList<>();
        org.dmstack.block.GenDisk ram2 = org.dmstack.block.GenDisk.builder("ram2", new org.dmstack.block.DevT(1, 2), 2048, bio -> {
            seen.add(bio);
            what.add(bio.toString());
            buffers.add(bio.data());
            bio.endio(BlkStatus.OK);
        }).build();
        f.registry.add(ram2);
        BlockDevice md = f.dm.create("lv", "0 1024 testlinear ram2 100").disk();
        BlockDevice other = f.dm.create("lv2", "0 1024 testlinear ram2 500").disk();
        Bio first = Bio.write(4, pattern(512, 1));
        md.submit(first);
        assertEquals(BlkStatus.OK, first.await());
        Bio second = Bio.read(8, pattern(512, 0));
        md.submit(second);
        assertEquals(BlkStatus.OK, second.await());
        MemorySegment again = pattern(512, 2);
        md.submit(first.reset(org.dmstack.block.BioOp.READ, 12, again));
        assertEquals(BlkStatus.OK, first.await());
        other.submit(first.reset(org.dmstack.block.BioOp.WRITE, 16, again));
        assertEquals(BlkStatus.OK, first.await());

        assertEquals(List.of("WRITE sector 104 size 512", "READ sector 108 size 512", "READ sector 112 size 512", "WRITE sector 516 size 512"), what);
        org.junit.jupiter.api.Assertions.assertNotSame(first, seen.get(0));
        org.junit.jupiter.api.Assertions.assertSame(first.keptClone(), seen.get(0), "the clone is kept with its bio");
        org.junit.jupiter.api.Assertions.assertNotSame(seen.get(0), seen.get(1), "another bio, a clone of its own");
        org.junit.jupiter.api.Assertions.assertSame(seen.get(0), seen.get(2), "the first bio's clone again when it goes down again");
        org.junit.jupiter.api.Assertions.assertSame(seen.get(0), seen.get(3), "and through another mapped device");
        org.junit.jupiter.api.Assertions.assertSame(second.data(), buffers.get(1), "the caller's buffer, not a copy or a slice");
        org.junit.jupiter.api.Assertions.assertSame(again, buffers.get(2));
        String[] lv = md.attributes().read("stat").trim().split("\\s+");
        String[] lv2 = other.attributes().read("stat").trim().split("\\s+");
        assertEquals(List.of("2", "1"), List.of(lv[0], lv[4]), "dm-0 counted two reads and a write");
        assertEquals(List.of("0", "1"), List.of(lv2[0], lv2[4]), "dm-1 counted the write it got, the clone ended it there");
    }

    @Test
    void maxIoLenSplitsAtMultiplesFromTheTargetStartEvenWhenNotAPowerOfTwo() {
        BlockDevice md = f.dm.create("lv", "0 8 zero\n8 100 testlinear ram0 0 24").disk();
        f.ram0.logging = true;
        Bio write = Bio.write(10, pattern(60 * 512, 1));
        md.submit(write);
        assertEquals(BlkStatus.OK, write.await());
        // target offset 2..62: boundaries at offsets 24 and 48
        assertEquals(List.of("WRITE 2+22", "WRITE 24+24", "WRITE 48+14"), f.ram0.log);
    }

    @Test
    void flushReachesEveryDeviceAndPreflushComesBeforeTheData() {
        BlockDevice md = f.dm.create("lv", "0 16 testlinear ram0 0\n16 16 testlinear ram1 0").disk();
        assertTrue(!md.writeCache(), "RAM disks have no write cache");
        DmFixture wc = new DmFixture();
        try {
            MemDisk a = new MemDisk("pmem0", new DevT(259, 0), 2048, true, true);
            MemDisk b = new MemDisk("pmem1", new DevT(259, 1), 2048, true, true);
            wc.registry.add(a.disk);
            wc.registry.add(b.disk);
            BlockDevice cached = wc.dm.create("c", "0 16 testlinear pmem0 0\n16 16 testlinear pmem1 0").disk();
            assertTrue(cached.writeCache());
            a.logging = true;
            b.logging = true;
            Bio flush = Bio.flush();
            cached.submit(flush);
            assertEquals(BlkStatus.OK, flush.await());
            assertEquals(List.of("FLUSH 0+0[PREFLUSH]"), a.log);
            assertEquals(List.of("FLUSH 0+0[PREFLUSH]"), b.log);
            Bio write = Bio.write(0, pattern(4096, 3), BioFlag.PREFLUSH, BioFlag.FUA);
            cached.submit(write);
            assertEquals(BlkStatus.OK, write.await());
            assertEquals(List.of("FLUSH 0+0[PREFLUSH]", "FLUSH 0+0[PREFLUSH]", "WRITE 0+8[FUA]"), a.log);
        } finally {
            wc.close();
        }
    }

    @Test
    void errorsFromBelowAndFromTheErrorTargetReachTheCaller() {
        BlockDevice md = f.dm.create("lv", "0 16 testlinear ram0 0\n16 16 error").disk();
        Bio bio = Bio.write(8, pattern(16 * 512, 0));
        md.submit(bio);
        assertEquals(BlkStatus.Code.IOERR, bio.await().code());
        f.ram0.failIo = true;
        Bio read = Bio.read(0, Arena.ofAuto().allocate(512));
        md.submit(read);
        assertEquals("IOERR: ram0: injected I/O error", read.await().toString());
    }

    @Test
    void badBiosToTheMappedDeviceAreRefusedUntouched() {
        BlockDevice md = f.dm.create("lv", "0 16 testlinear ram0 0").disk();
        MemorySegment buf = pattern(1024, 9);
        Bio beyond = Bio.read(15, buf);
        md.submit(beyond);
        assertEquals("IOERR: attempt to access beyond end of device dm-0: rw=0, sector=15, nr_sectors = 2 limit=16", beyond.await().toString());
        assertEquals(-1, buf.mismatch(pattern(1024, 9)), "a refused read touches no memory");
        Bio empty = Bio.write(0, Arena.ofAuto().allocate(0));
        md.submit(empty);
        assertEquals("INVAL: dm-0: empty WRITE bio at sector 0", empty.await().toString());
        Bio odd = Bio.write(0, Arena.ofAuto().allocate(100));
        md.submit(odd);
        assertEquals("INVAL: dm-0: WRITE at sector 0 of 100 bytes is not aligned to the logical block size 512", odd.await().toString());
    }
}
