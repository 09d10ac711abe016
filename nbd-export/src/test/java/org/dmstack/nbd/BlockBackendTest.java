package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.nbd.protocol.Nbd;
import org.dmstack.nbd.server.Backend;
import org.junit.jupiter.api.Test;

/** A block device as a backend: withdrawn as del_gendisk drains a queue, and found by what the registry finds. */
class BlockBackendTest {
    private final List<String> ends = new CopyOnWriteArrayList<>();
    private final Backend.Done done = (error, message) -> ends.add(error == 0 ? "ok" : error + " " + message);

    @Test
    void aWithdrawnBackendTurnsRequestsDownAndGivesBackThoseItsDeviceFailedUnfinished() {
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        BlockBackend b = new BlockBackend(ram.disk);
        ram.holdWhen(bio -> bio.op() == BioOp.WRITE);
        MemorySegment data = Arena.ofAuto().allocate(4096).fill((byte) 0x5a);
        assertTrue(b.write(0, data, false, done));
        assertTrue(b.write(8192, data, false, done));
        b.withdraw();
        assertFalse(b.flush(done), "turned down: the server holds it for the device that comes back");
        assertFalse(b.read(0, Arena.ofAuto().allocate(512), done));
        assertEquals(List.of(), ends);

        ram.failHeld(); // the device is torn down under the two writes
        assertEquals(List.of(Backend.WITHDRAWN + " ram0 went away: device removed", Backend.WITHDRAWN + " ram0 went away: device removed"), ends,
                "unfinished, not failed: the server sends them again to the device that returns");
        assertEquals(0, ram.count(BioOp.FLUSH) + ram.count(BioOp.READ), "nothing reached the device after the withdrawal");
    }

    @Test
    void aRequestInFlightThatTheDeviceFinishesIsAcknowledgedEvenAfterTheWithdrawal() {
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        BlockBackend b = new BlockBackend(ram.disk);
        ram.holdWhen(bio -> bio.op() == BioOp.WRITE);
        assertTrue(b.write(0, Arena.ofAuto().allocate(4096).fill((byte) 0x5a), false, done));
        b.withdraw();
        ram.release();
        assertEquals(List.of("ok"), ends);
        assertEquals((byte) 0x5a, ram.memory.get(ValueLayout.JAVA_BYTE, 4095));
    }

    @Test
    void aDeviceErrorIsTheProtocolsErrorWithTheDevicesReason() {
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        ram.discardSupported = false;
        BlockBackend b = new BlockBackend(ram.disk);
        assertTrue(b.trim(0, 4096, false, done));
        assertTrue(b.writeZeroes(0, 4096, false, true, done));
        assertTrue(b.read(1 << 20, Arena.ofAuto().allocate(512), done));
        assertEquals("ok", ends.get(0), "TRIM is a hint: a device that cannot discard did nothing wrong");
        assertEquals("ok", ends.get(1), "NO_HOLE writes zero pages");
        assertTrue(ends.get(2).startsWith(Nbd.EIO + " "), ends.get(2)); // bio_check_eod: EIO
    }

    @Test
    void sourcesAreFoundAsTheRegistryFindsThemAndWithdrawnWhenTheyLeave() {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        registry.add(ram.disk);
        List<String> heard = new CopyOnWriteArrayList<>();
        try (BlockBackends backends = new BlockBackends(registry)) {
            backends.follow(() -> heard.add("changed"));
            Backend byName = backends.find("ram0");
            assertSame(byName, backends.find("/dev/ram0"));
            assertSame(byName, backends.find("1:0"));
            assertEquals("ram0 (1:0)", byName.description());
            assertEquals(List.of("ram0"), backends.names());

            registry.remove(ram.disk);
            assertEquals(List.of("changed"), heard);
            assertNull(backends.find("ram0"));
            assertFalse(byName.read(0, Arena.ofAuto().allocate(512), done), "the backend of a device that left is withdrawn");

            registry.add(ram.device("ram0", ram.disk.devt(), false, false, ram.disk.limits()));
            Backend again = backends.find("ram0");
            assertTrue(again != null && again != byName, "a device that comes back gets a new backend");
            assertTrue(again.read(0, Arena.ofAuto().allocate(512), done));
        }
    }

    @Test
    void readsComeBackByteExact() {
        MemDisk ram = MemDisk.of("ram0", 0, 1 << 20);
        byte[] pattern = ServerFixture.pattern(8192, 7);
        MemorySegment.copy(pattern, 0, ram.memory, ValueLayout.JAVA_BYTE, 4096, pattern.length);
        MemorySegment into = Arena.ofAuto().allocate(8192);
        assertTrue(new BlockBackend(ram.disk).read(4096, into, done));
        assertEquals(List.of("ok"), ends);
        assertArrayEquals(pattern, into.toArray(ValueLayout.JAVA_BYTE));
    }

    /** Holes come from a disk whose driver tells them (brd); any other device, or a withdrawn backend, is data throughout. */
    @Test
    void holesAreTheDriversOrNone() {
        BlockDeviceRegistry devices = new BlockDeviceRegistry();
        Brd brd = new Brd(devices, new BrdConfig(1, 64)); // 64 KiB
        try {
            BlockBackend b = new BlockBackend(devices.lookup("ram0"));
            assertTrue(b.write(8192, Arena.ofAuto().allocate(4096).fill((byte) 1), false, done));
            assertEquals(0, b.seekHole(0, 65536));
            assertEquals(8192, b.seekData(0, 65536));
            assertEquals(12288, b.seekHole(8192, 65536));
            b.withdraw();
            assertEquals(65536, b.seekHole(0, 65536), "withdrawn: data, never a wrong hole");
            assertEquals(0, b.seekData(0, 65536));
        } finally {
            brd.destroy();
        }
        BlockBackend mem = new BlockBackend(MemDisk.of("ram9", 9, 1 << 20).disk);
        assertEquals(1 << 20, mem.seekHole(0, 1 << 20), "a device that cannot tell: all data");
        assertEquals(4096, mem.seekData(4096, 1 << 20));
    }
}
