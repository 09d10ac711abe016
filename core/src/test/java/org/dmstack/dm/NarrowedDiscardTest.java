package org.dmstack.dm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.junit.jupiter.api.Test;

/** A target may send a device below only part of a discard (dm-stripe does); core submits exactly that part. */
class NarrowedDiscardTest {
    /** Maps sector s to s of the device and passes on only the first half of every discard. */
    private static final class HalfDiscard implements Target {
        private final BlockDevice device;

        HalfDiscard(BlockDevice device) {
            this.device = device;
        }

        @Override
        public MapResult map(Bio bio) {
            if (bio.op() == BioOp.DISCARD) bio.remap(device, bio.sector(), bio.size() / 2);
            else bio.remap(device, bio.sector());
            return MapResult.REMAPPED;
        }

        @Override
        public String status(StatusType type) {
            return "";
        }

        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            visitor.visit(device, 0, device.capacity());
        }
    }

    @Test
    void theDeviceBelowSeesTheNarrowedRange() {
        List<String> seen = new ArrayList<>();
        BlockDeviceRegistry registry = new BlockDeviceRegistry();
        registry.add(GenDisk.builder("ram0", new DevT(1, 0), 1024, bio -> {
            seen.add(bio.op() + " " + bio.sector() + "+" + bio.sectors());
            bio.endio(BlkStatus.OK);
        }).limits(QueueLimits.of(512, 512).setDiscard(QueueLimits.UNLIMITED, 512)).build());
        try (DeviceMapper dm = new DeviceMapper(registry)) {
            dm.targetTypes().register(new TargetType() {
                @Override
                public String name() {
                    return "half";
                }

                @Override
                public Target construct(TargetContext context) throws TargetException {
                    return new HalfDiscard(context.getDevice(context.args().getFirst()));
                }
            });
            MappedDevice md = dm.create("half", "0 1024 half ram0");
            Bio discard = Bio.discard(64, 32 * 512);
            md.disk().submit(discard);
            assertEquals(BlkStatus.OK, discard.await());
            assertEquals(List.of("DISCARD 64+16"), seen);
        }
    }
}
