package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.MappedDevice;
import org.dmstack.dm.linear.LinearTargetType;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/**
 * The README's "Use it from Java" as written there: the bundles' classes in a plain program, no
 * OSGi (a unit test here, where the bundles are on the class path; the ITs load them in Felix).
 */
class PlainJavaTest {
    @Test
    void theReadmesExampleRunsAsWritten() {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        Brd brd = new Brd(registry, new BrdConfig(2, 1024));              // ram0, ram1: 1 MiB each (brd-driver)
        DeviceMapper dm = new DeviceMapper(registry);
        dm.targetTypes().register(new LinearTargetType());                // from the dm-linear bundle

        MappedDevice lv = dm.create("lv0", """
                0 2048 linear ram0 0
                2048 2048 linear ram1 0
                """);
        BlockDevice dev = lv.disk();                                      // dm-0, 254:0
        byte[] data = new byte[4096];
        Arrays.fill(data, (byte) 0x5a);
        Bio write = Bio.write(8, MemorySegment.ofArray(data));
        dev.submit(write);
        BlkStatus status = write.await();                                 // OK, or IOERR/INVAL with a reason
        assertEquals(BlkStatus.OK, status);

        assertEquals("0 2048 linear 1:0 0\n2048 2048 linear 1:1 0\n", dm.table("lv0"));
        byte[] buffer = new byte[8192];
        long n = FsDax.read(dev.dax(), 0, IovIter.iovec(buffer));        // DAX, through the table
        assertEquals(8192, n);
        assertArrayEquals(data, Arrays.copyOfRange(buffer, 4096, 8192));

        dm.close();
        brd.destroy();
    }
}
