package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a table can do follows from its devices and targets (DESIGN.md, "Write cache and flush rules"). */
class TableCapabilitiesTest {
    private final DmFixture f = new DmFixture();
    private final MemDisk pmem = new MemDisk("pmem0", new DevT(259, 0), 4096, true, true);
    private final MemDisk plain = new MemDisk("sda", new DevT(8, 0), 4096, false, false,
            QueueLimits.of(4096, 4096).setIoOpt(3 * 4096).setMaxSectors(256));

    TableCapabilitiesTest() {
        f.registry.add(pmem.disk);
        f.registry.add(plain.disk);
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void queueWriteCacheAndFuaWhenAnyDeviceHasThem() {
        BlockDevice ram = f.dm.create("ram", "0 2048 testlinear ram0 0").disk();
        assertFalse(ram.writeCache());
        assertFalse(ram.fua());
        assertEquals("write through", ram.attributes().read("queue/write_cache"));
        BlockDevice mixed = f.dm.create("mixed", "0 2048 testlinear ram0 0\n2048 2048 testlinear pmem0 0").disk();
        assertTrue(mixed.writeCache());
        assertTrue(mixed.fua());
        assertEquals("write back", mixed.attributes().read("queue/write_cache"));
    }

    /**
     * A testlinear that asks for flushes and handles discards itself, as 6.1's log-writes does
     * (ti->flush_supported and ti->discards_supported in log_writes_ctr).
     */
    private TargetType selfCaring(String name, int flushBios) {
        TargetType linear = new TestLinear.Type();
        return new TargetType() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public Target construct(TargetContext ctx) throws TargetException {
                Target t = linear.construct(ctx);
                return new Target() {
                    @Override
                    public MapResult map(Bio bio) {
                        mapped.add(bio.op() + (bio.hasFlag(BioFlag.PREFLUSH) ? "+PREFLUSH" : "") + (bio.hasFlag(BioFlag.FUA) ? "+FUA" : ""));
                        if (bio.op() == BioOp.DISCARD) {
                            bio.endio(BlkStatus.OK);
                            return MapResult.SUBMITTED;
                        }
                        return t.map(bio);
                    }

                    @Override
                    public String status(StatusType type) {
                        return t.status(type);
                    }

                    @Override
                    public void iterateDevices(DeviceVisitor visitor) {
                        t.iterateDevices(visitor);
                    }

                    @Override
                    public int numFlushBios() {
                        return flushBios;
                    }

                    @Override
                    public boolean flushSupported() {
                        return true;
                    }

                    @Override
                    public boolean discardsSupported() {
                        return true;
                    }

                    @Override
                    public void ioHints(QueueLimits limits) {
                        limits.setDiscard(QueueLimits.UNLIMITED >> 9, 512);
                    }
                };
            }
        };
    }

    private final List<String> mapped = new CopyOnWriteArrayList<>();

    @Test
    void aTargetThatAsksForFlushesGetsThemOverDevicesWithoutAWriteCache() {
        // dm-table.c 6.1, dm_table_supports_flush: "if (ti->flush_supported) return true;" before any device is asked.
        f.dm.targetTypes().register(selfCaring("flushes", 1));
        BlockDevice md = f.dm.create("lw", "0 2048 flushes ram0 0").disk();
        assertTrue(md.writeCache());
        assertTrue(md.fua());
        assertEquals("write back", md.attributes().read("queue/write_cache"));
        assertEquals(BlkStatus.OK, submitAndWait(md, Bio.flush()));
        assertEquals(BlkStatus.OK, submitAndWait(md, Bio.write(8, MemorySegment.ofArray(new byte[512]), BioFlag.FUA)));
        assertEquals(List.of("FLUSH+PREFLUSH", "WRITE+FUA"), mapped);

        // A target that takes no flushes (num_flush_bios 0) is skipped, flush_supported or not.
        f.dm.targetTypes().register(selfCaring("noflushes", 0));
        BlockDevice none = f.dm.create("none", "0 2048 noflushes ram0 0").disk();
        assertFalse(none.writeCache());
        assertEquals("write through", none.attributes().read("queue/write_cache"));
    }

    @Test
    void aTargetThatHandlesDiscardsTakesThemOverDevicesThatCannot() {
        // dm-table.c 6.1, dm_table_supports_discards: "if (!ti->discards_supported && ... device_not_discard_capable ...) return false".
        assertEquals(0, f.dm.create("plainlinear", "0 2048 testlinear ram0 0").disk().limits().maxDiscardSectors());
        f.dm.targetTypes().register(selfCaring("discards", 1));
        BlockDevice md = f.dm.create("lw", "0 2048 discards ram0 0").disk();
        assertEquals(QueueLimits.UNLIMITED >> 9, md.limits().maxDiscardSectors());
        assertEquals(BlkStatus.OK, submitAndWait(md, Bio.discard(64, 8 * 512)));
        assertEquals(List.of("DISCARD"), mapped);
    }

    @Test
    void aFlushSkipsTheZeroAndErrorTargets() {
        // dm-zero.c and dm-target.c (6.1) set no num_flush_bios, so __send_empty_flush sends them nothing:
        // a flush of a table with an error target in it succeeds.
        BlockDevice md = f.dm.create("mixed", "0 2048 testlinear pmem0 0\n2048 8 error\n2056 8 zero").disk();
        assertTrue(md.writeCache());
        assertEquals(BlkStatus.OK, submitAndWait(md, Bio.flush()));
        assertFalse(submitAndWait(md, Bio.write(2048, MemorySegment.ofArray(new byte[512]))).isOk(), "the error target fails its writes");
    }

    private static BlkStatus submitAndWait(BlockDevice device, Bio bio) {
        device.submit(bio);
        return bio.await();
    }

    @Test
    void daxOnlyWhenEveryTargetAndDeviceCanAndDaxWriteCacheWhenAnyHasIt() {
        BlockDevice both = f.dm.create("both", "0 2048 testlinear ram0 0\n2048 2048 testlinear pmem0 0").disk();
        DaxDevice dax = both.dax();
        assertNotNull(dax);
        assertTrue(dax.writeCache(), "pmem0 has a DAX write cache");
        assertEquals("1", both.attributes().read("queue/dax"));
        assertFalse(both.attributes().has("dax/write_cache"), "6.1: only pmem's disk has the file (pmem_attribute_groups)");

        BlockDevice ramOnly = f.dm.create("ramonly", "0 2048 testlinear ram0 0").disk();
        assertFalse(ramOnly.dax().writeCache());

        // dm_table_set_restrictions (6.1) sets the DAX write cache when some device has it and never
        // clears it: a table without pmem after one with it keeps flushing.
        f.dm.suspend("both");
        f.dm.load("both", "0 2048 testlinear ram0 0");
        f.dm.resume("both");
        assertTrue(both.dax().writeCache());

        BlockDevice withPlain = f.dm.create("plain", "0 2048 testlinear ram0 0\n2048 2048 testlinear sda 0").disk();
        assertNull(withPlain.dax(), "sda cannot do DAX");
        assertEquals("0", withPlain.attributes().read("queue/dax"));

        BlockDevice withZero = f.dm.create("zero", "0 2048 testlinear ram0 0\n2048 8 zero").disk();
        assertNull(withZero.dax(), "the zero target cannot do DAX");
        DaxException e = assertThrows(DaxException.class, () -> f.dm.get("zero").daxDevice().directAccess(0, 1));
        assertEquals(DaxException.Errno.EOPNOTSUPP, e.errno());
        assertEquals("dm-3 (zero): the live table is not DAX-capable", e.getMessage());
    }

    @Test
    void limitsStackLikeBlkStackLimits() {
        BlockDevice md = f.dm.create("lv", "0 2048 testlinear ram0 0\n2048 2048 testlinear sda 0").disk();
        QueueLimits l = md.limits();
        assertEquals(4096, l.logicalBlockSize());
        assertEquals(4096, l.physicalBlockSize());
        assertEquals(4096, l.ioMin());
        assertEquals(3 * 4096, l.ioOpt());
        // blk_stack_limits: the smaller max_sectors (ram0's default 255, sda's 256), rounded down to whole 4096-byte blocks.
        assertEquals(248, l.maxSectors());
        assertEquals("124", md.attributes().read("queue/max_sectors_kb"));

        QueueLimits a = QueueLimits.stacking().setIoOpt(4096 * 4);
        a.stack(QueueLimits.of(512, 512).setIoOpt(4096 * 6), 0);
        assertEquals(4096 * 12, a.ioOpt(), "io_opt is the least common multiple");
    }

    @Test
    void daxCallsAreForwardedAndClampedToTheTarget() {
        BlockDevice md = f.dm.create("lv", "0 16 testlinear ram0 64\n16 2032 testlinear ram1 0").disk();
        DaxDevice dax = md.dax();
        DaxMapping first = dax.directAccess(0, 100);
        assertEquals(2, first.pages(), "clamped to the end of the first target (16 sectors)");
        assertEquals(f.ram0.memory.address() + 64 * 512, first.kaddr().address());
        DaxMapping second = dax.directAccess(2, 3);
        assertEquals(3, second.pages());
        assertEquals(f.ram1.memory.address(), second.kaddr().address());

        byte[] data = new byte[3 * 4096];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i ^ 0x55);
        assertEquals(data.length, FsDax.write(dax, 4096, IovIter.iovec(data)));
        assertArrayEquals(Arrays.copyOfRange(data, 0, 4096), f.ram0.read((64 + 8) * 512, 4096));
        assertArrayEquals(Arrays.copyOfRange(data, 4096, 3 * 4096), f.ram1.read(0, 2 * 4096));
        byte[] back = new byte[data.length];
        assertEquals(data.length, FsDax.read(dax, 4096, IovIter.iovec(back)));
        assertArrayEquals(data, back);
    }
}
