package org.dmstack.pmem;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.memory.MappingPool;
import org.dmstack.units.Units;
import org.dmstack.nvdimm.MediaErrorListener;
import org.dmstack.nvdimm.Namespaces;
import org.dmstack.nvdimm.Region;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pmem driver: one device per memory region, published in a {@link BlockDeviceRegistry}.
 * Regions come from direct configuration ({@link #create(PmemConfig)}, Linux's legacy memmap
 * pmem) or from {@link Region} objects that the nfit bundle discovers ({@link #addRegion}).
 * Device numbers are 259:x, allocated in order and kept by name.
 *
 * <pre>{@code
 * Pmem pmem = new Pmem(registry);
 * PmemDevice pmem0 = pmem.create(PmemConfig.file(Path.of("/var/lib/pmem0.img"), 4L << 30, true));
 * pmem0.injectError(4096, 8);  // ndctl inject-error --block=4096 --count=8
 * pmem.remove("pmem0");        // the file keeps its contents
 * }</pre>
 *
 * <p>A driver made with a {@link MappingPool} leaves each device's file mapping there when the
 * device goes, and a device made later over the same file and size takes it back instead of
 * mapping the file again: in OSGi the pool is core's, so a bundle update does not unmap and map
 * while the stack above holds its I/O.
 *
 * <p>Names: a region's device is pmem{region id}, as Linux names a region's first namespace. A
 * configured device takes the name it is given, or else the lowest free pmemN; give names when
 * a stack above must find the same device after a restart.
 */
public class Pmem implements MediaErrorListener, Namespaces, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pmem.class);

    private final BlockDeviceRegistry registry;
    private final MappingPool mappings;
    private final Map<String, PmemDevice> devices = new LinkedHashMap<>();
    private final Map<Region, PmemDevice> byRegion = new LinkedHashMap<>();
    private boolean closed;

    /** A driver that unmaps what its devices mapped when they go. */
    public Pmem(BlockDeviceRegistry registry) {
        this(registry, null);
    }

    /** A driver that leaves its devices' file mappings in {@code mappings} when they go (null: unmaps them). */
    public Pmem(BlockDeviceRegistry registry, MappingPool mappings) {
        this.registry = registry;
        this.mappings = mappings;
    }

    /**
     * Makes a device from direct configuration.
     *
     * @throws IllegalArgumentException when the backing cannot be used (missing or unreadable file,
     *     a directory, a file smaller than the size without create=true...), saying why
     * @throws IllegalStateException when the name is taken or another device uses the file
     */
    public synchronized PmemDevice create(PmemConfig config) {
        String name = config.name() != null ? config.name() : freeName();
        return make(name, null, config.path() == null ? null : config.path(), config.size(), config.create(), config.volatileMemory(),
                !config.volatileMemory());
    }

    /**
     * Makes the device of a region: pmem{id}, over the region's file or anonymous memory, with the
     * DAX write cache the region needs ({@link Region#needsCacheWriteback()}), its known poison
     * as bad blocks, and read-only when the region is ({@link Region#readOnly()}).
     *
     * @throws IllegalArgumentException or IllegalStateException as {@link #create}
     */
    public synchronized PmemDevice addRegion(Region region) {
        if (byRegion.containsKey(region)) throw new IllegalStateException("pmem: " + region.name() + " already has " + byRegion.get(region).name());
        if (region.size() <= 0 || region.size() % Units.PAGE_SIZE != 0) {
            throw new IllegalArgumentException("pmem: " + region.name() + ": size " + region.size() + " is not a positive multiple of the page size");
        }
        if (region.backing().isAnonymous() && region.type() == Region.Type.PERSISTENT) {
            throw new IllegalArgumentException("pmem: " + region.name() + ": a persistent region needs a backing file");
        }
        PmemDevice device = make("pmem" + region.id(), region, region.backing().file(), region.size(), region.backing().create(),
                region.type() == Region.Type.VOLATILE, region.needsCacheWriteback());
        byRegion.put(region, device);
        return device;
    }

    /** The device over the region of that name, or null. */
    @Override
    public synchronized PmemDevice deviceOf(String regionName) {
        for (Map.Entry<Region, PmemDevice> e : byRegion.entrySet()) if (e.getKey().name().equals(regionName)) return e.getValue();
        return null;
    }

    /** The platform found a media error in a region (ndctl inject-error, or a scrub): poison the sectors it covers. */
    @Override
    public void poisonInjected(Region region, Region.PoisonRange range) {
        PmemDevice device = deviceOf(region.name());
        if (device == null) return;
        long first = range.offset() >> Units.SECTOR_SHIFT;
        long end = (range.offset() + range.length() + Units.SECTOR_SIZE - 1) >> Units.SECTOR_SHIFT;
        device.injectError(first, end - first);
    }

    /** The platform cleared a media error: clear the whole sectors it covers. */
    @Override
    public void poisonCleared(Region region, Region.PoisonRange range) {
        PmemDevice device = deviceOf(region.name());
        if (device == null) return;
        long first = (range.offset() + Units.SECTOR_SIZE - 1) >> Units.SECTOR_SHIFT;
        long end = (range.offset() + range.length()) >> Units.SECTOR_SHIFT;
        if (end > first) device.clearError(first, end - first);
    }

    /** The region's read-only state was written: the device over it follows (NVDIMM_REVALIDATE_REGION). */
    @Override
    public void regionRevalidated(Region region) {
        PmemDevice device = deviceOf(region.name());
        if (device != null) checkAndSetRo(device, region);
    }

    /** nvdimm_check_and_set_ro (drivers/nvdimm/bus.c): catches the disk up with the region's read-only state. */
    private static void checkAndSetRo(PmemDevice device, Region region) {
        if (device.readOnly() == region.readOnly()) return;
        String state = region.readOnly() ? "only" : "write";
        LOG.info("{} read-{}, marking {} read-{}", region.name(), state, device.name(), state);
        device.setReadOnly(region.readOnly());
    }

    /** Removes the device of a region (the region went away); returns whether there was one. */
    public synchronized boolean removeRegion(Region region) {
        PmemDevice device = byRegion.remove(region);
        if (device == null) return false;
        unpublish(device);
        return true;
    }

    private PmemDevice make(String name, Region region, Path file, long size, boolean create, boolean volatileMemory,
            boolean daxWriteCache) {
        if (closed) throw new IllegalStateException("pmem: the driver is closed");
        BlockDevice other = registry.lookup(name);
        if (other != null) throw new IllegalStateException("pmem: cannot create " + name + ": " + other.name() + " " + other.devt() + " already exists");
        // Everything that can be checked is checked before the file is touched.
        Backing backing = file == null ? Backing.anonymous(size) : Backing.map(name, file, size, create, mappings);
        PmemDevice device;
        try {
            DevT devt = registry.allocate(DevT.BLOCK_EXT_MAJOR, name);
            device = new PmemDevice(name, devt, region, backing, size, volatileMemory, daxWriteCache);
            // Read-only before anyone can see it: pmem_attach_disk checks right after device_add_disk.
            if (region != null) checkAndSetRo(device, region);
            registry.add(device.device());
        } catch (RuntimeException e) {
            backing.close(mappings, backing.unforced());
            throw e;
        }
        devices.put(name, device);
        LOG.info("pmem: {}", device);
        return device;
    }

    /** Removes a device by name; returns whether there was one. The backing file keeps its contents. */
    public synchronized boolean remove(String name) {
        PmemDevice device = devices.get(name);
        if (device == null) return false;
        byRegion.values().remove(device);
        unpublish(device);
        return true;
    }

    private void unpublish(PmemDevice device) {
        devices.remove(device.name());
        registry.remove(device.device());
        device.close(mappings);
        LOG.info("pmem: removed {}", device.name());
    }

    /** The devices, in the order they were made. */
    @Override
    public synchronized List<PmemDevice> devices() {
        return List.copyOf(devices.values());
    }

    /** The device called {@code name}, or null. */
    public synchronized PmemDevice device(String name) {
        return devices.get(name);
    }

    /** Removes every device. */
    @Override
    public synchronized void close() {
        closed = true;
        for (PmemDevice d : new ArrayList<>(devices.values())) unpublish(d);
        byRegion.clear();
    }

    private String freeName() {
        for (int n = 0; ; n++) {
            String name = "pmem" + n;
            if (!devices.containsKey(name) && registry.lookup(name) == null) return name;
        }
    }
}
