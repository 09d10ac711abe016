package org.dmstack.testkit;

import static org.mockito.Mockito.lenient;
import static org.mockito.Mockito.mock;

import org.dmstack.block.Attributes;
import org.dmstack.block.BadBlocks;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;

/** Mockito mocks of block devices with a name, number, size and limits, for unit tests of a target's constructor and map. */
public final class MockDevices {
    private MockDevices() {}

    /** A mocked device of {@code sectors} sectors, 512-byte logical blocks, no write cache, no DAX. */
    public static BlockDevice device(String name, int major, int minor, long sectors) {
        BlockDevice d = mock(BlockDevice.class, name);
        lenient().when(d.name()).thenReturn(name);
        lenient().when(d.devt()).thenReturn(new DevT(major, minor));
        lenient().when(d.capacity()).thenReturn(sectors);
        lenient().when(d.sizeBytes()).thenReturn(sectors * 512);
        lenient().when(d.limits()).thenReturn(QueueLimits.of(512, 4096));
        lenient().when(d.badBlocks()).thenReturn(new BadBlocks());
        lenient().when(d.attributes()).thenReturn(new Attributes());
        return d;
    }
}
