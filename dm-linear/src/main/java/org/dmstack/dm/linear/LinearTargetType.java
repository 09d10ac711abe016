package org.dmstack.dm.linear;

import org.dmstack.block.Bio;
import org.dmstack.block.BlockDevice;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetArgs;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.osgi.service.component.annotations.Component;

/**
 * The "linear" target (Linux's dm-linear.c): maps a range of the mapped device onto a range of
 * one device, sector for sector.
 *
 * <pre>{@code <start> <length> linear <dev> <offset>}</pre>
 *
 * Embedded, register it with {@code deviceMapper.targetTypes().register(new LinearTargetType())};
 * in a framework it is a service and device-mapper finds it by its keyword.
 */
@Component(service = TargetType.class)
public final class LinearTargetType implements TargetType {
    @Override
    public String name() {
        return "linear";
    }

    @Override
    public int[] version() {
        return new int[] {1, 4, 0};
    }

    /** linear_ctr: {@code <dev> <offset>}. */
    @Override
    public Target construct(TargetContext context) throws TargetException {
        if (context.args().size() != 2) throw new TargetException("Invalid argument count");
        TargetArgs as = context.argSet();
        String devname = as.shift();
        long start = as.sector("Invalid device sector");
        BlockDevice device = as.device(devname, "Device lookup failed");
        return new Linear(device, start, context.begin(), context.length());
    }

    /** One linear table line: sector {@code begin + n} of the mapped device is {@code start + n} of the device. */
    static final class Linear implements Target {
        private final BlockDevice device;
        private final long start;
        private final long begin;
        private final long length;

        // DAX: the device's page is pgoff + pageDelta when start - begin is whole pages; otherwise no
        // page of the target is a page on the device, and linear_dax_pgoff's check refuses it (EIO).
        private final boolean pagesAligned;
        private final long pageDelta;

        Linear(BlockDevice device, long start, long begin, long length) {
            this.device = device;
            this.start = start;
            this.begin = begin;
            this.length = length;
            this.pagesAligned = ((start - begin) & (Units.PAGE_SECTORS - 1)) == 0;
            this.pageDelta = (start - begin) >> Units.PAGE_SECTORS_SHIFT;
        }

        /** linear_map_sector: the one mapping every path uses. */
        private long mapSector(long sector) {
            return start + (sector - begin);
        }

        @Override
        public MapResult map(Bio bio) {
            // An empty flush has no sector to map; it just goes to the device.
            bio.remap(device, bio.sectors() > 0 ? mapSector(bio.sector()) : bio.sector());
            return MapResult.REMAPPED;
        }

        /** INFO: nothing. TABLE: {@code <maj:min> <offset>}. */
        @Override
        public String status(StatusType type) {
            return switch (type) {
                case INFO -> "";
                case TABLE -> device.devt() + " " + Long.toUnsignedString(start);
            };
        }

        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            visitor.visit(device, start, length);
        }

        @Override
        public boolean supportsDax() {
            return true;
        }

        // DAX: pgoff is a page of the mapped device; core has clamped nrPages to this target's end.

        @Override
        public void directAccess(long pgoff, long nrPages, DaxMapping map) {
            Target.daxDevice(device).directAccess(devicePgoff(pgoff), nrPages, map);
        }

        /** linear_dax_pgoff: the device's page for {@code pgoff} (EIO when the offset is not page aligned). */
        private long devicePgoff(long pgoff) {
            return pagesAligned ? pgoff + pageDelta : Target.daxPgoff(device, mapSector(pgoff * Units.PAGE_SECTORS));
        }
    }
}
