package org.dmstack.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;

/** The devices' MBeans in the platform MBean server, read as jconsole reads them. */
class DeviceMBeansTest {
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    private Object get(String device, String attribute) throws Exception {
        return server.getAttribute(new ObjectName("org.dmstack:type=BlockDevice,name=" + device), attribute);
    }

    private Set<String> attributes(String device) throws Exception {
        return Arrays.stream(server.getMBeanInfo(DeviceMBeans.objectName(device)).getAttributes())
                .map(MBeanAttributeInfo::getName).collect(Collectors.toSet());
    }

    @Test
    void oneMBeanPerDeviceWhileItExists() throws Exception {
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        MemDisk pmem = new MemDisk("mbpmem0", new DevT(259, 40), 2048, true, true, QueueLimits.of(512, 4096).setIoOpt(65536));
        MemDisk ram = new MemDisk("mbram0", new DevT(1, 40), 2048, false, false);
        registry.add(pmem.disk);
        try (DeviceMBeans beans = DeviceMBeans.register(registry)) {
            registry.add(ram.disk);
            Bio write = Bio.write(8, MemorySegment.ofArray(new byte[4096]));
            pmem.disk.submit(write);
            write.await();
            FsDax.write(pmem.disk.dax(), 0, IovIter.iovec(new byte[8192]));
            // A store through a mapping, then its flush (what an msync of a DAX mapping does).
            pmem.disk.dax().flush(pmem.disk.dax().directAccess(0, 1), 0, 64);

            assertEquals("mbpmem0", get("mbpmem0", "Name"));
            assertEquals("259:40", get("mbpmem0", "Devt"));
            assertEquals(1L, get("mbpmem0", "WriteIos"));
            assertEquals(8L, get("mbpmem0", "WriteSectors"));
            assertEquals(0L, get("mbpmem0", "InFlight"));
            assertEquals(17, ((long[]) get("mbpmem0", "Stat")).length);
            assertEquals(1L, ((long[]) get("mbpmem0", "Stat"))[4]);
            assertEquals(512, get("mbpmem0", "LogicalBlockSize"));
            assertEquals(4096, get("mbpmem0", "PhysicalBlockSize"));
            assertEquals(65536L, get("mbpmem0", "OptimalIoSize"));
            assertEquals(true, get("mbpmem0", "WriteCache"));
            assertEquals(true, get("mbpmem0", "Dax"));
            assertEquals(true, get("mbpmem0", "DaxWriteCache"));
            assertTrue((Long) get("mbpmem0", "DaxDirectAccessCalls") >= 1);
            assertEquals(1L, get("mbpmem0", "DaxCopyCalls"));
            assertEquals(1L, get("mbpmem0", "DaxFlushCalls"));

            assertEquals(false, get("mbram0", "WriteCache"));
            assertEquals(false, get("mbram0", "Dax"));
            assertTrue(attributes("mbpmem0").contains("DaxCopyCalls"));
            assertFalse(attributes("mbram0").contains("DaxCopyCalls"));
            assertArrayEquals(new long[17], (long[]) get("mbram0", "Stat"));

            registry.remove(ram.disk);
            assertFalse(server.isRegistered(DeviceMBeans.objectName("mbram0")));
            assertTrue(server.isRegistered(DeviceMBeans.objectName("mbpmem0")));
        }
        assertFalse(server.isRegistered(DeviceMBeans.objectName("mbpmem0")));
    }
}
