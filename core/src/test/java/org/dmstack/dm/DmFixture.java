package org.dmstack.dm;

import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.MemDisk;

/** A registry with two 1 MiB RAM-like disks and device-mapper with the test target. */
class DmFixture implements AutoCloseable {
    final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    final DeviceMapper dm = new DeviceMapper(registry);
    final MemDisk ram0 = new MemDisk("ram0", new DevT(1, 0), 2048);
    final MemDisk ram1 = new MemDisk("ram1", new DevT(1, 1), 2048);

    DmFixture() {
        registry.add(ram0.disk);
        registry.add(ram1.disk);
        dm.targetTypes().register(new TestLinear.Type());
    }

    @Override
    public void close() {
        dm.close();
    }
}
