package org.dmstack.brd;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.units.Units;
import org.dmstack.memory.PagePool;
import org.dmstack.memory.PageStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The brd driver: {@code rd_nr} RAM disks ram0 ... ramN-1 (1:0 ... 1:N-1) of {@code rd_size}
 * KiB, published in a {@link BlockDeviceRegistry}. Usable from plain Java:
 *
 * <pre>{@code
 * Brd brd = new Brd(registry, new BrdConfig(2, 1 << 20)); // ram0, ram1: 1 GiB each
 * brd.configure(new BrdConfig(4, 1 << 20));             // adds ram2, ram3
 * brd.close();                                          // devices gone, memory kept in the pool
 * }</pre>
 *
 * <p>Each disk's memory lives in a {@link PagePool} under the key {@code "brd/ramN"}, not in the
 * driver, so a driver closed and made again with the same configuration finds the contents
 * where they were. {@link #destroy()} (the configuration was removed) gives the memory back.
 *
 * <p>Reconfiguring adds the devices that are missing and removes the ones no longer configured,
 * freeing their memory; a device whose size changed is made again at the new size (shrinking
 * drops the pages past the end). A device that is open ({@link BlockDeviceRegistry#openCount}: a
 * mapped device stacked on it, an NBD client, dd) is neither removed nor resized: it stays as it
 * is, with a warning, until a later configuration change finds it free.
 */
public class Brd implements AutoCloseable {
    /** Prefix of this driver's keys in the page pool. */
    public static final String POOL_PREFIX = "brd/";

    private static final Logger LOG = LoggerFactory.getLogger(Brd.class);

    /**
     * Devices still published by a destroyed driver because a mapped device holds them, by
     * number: a later driver that configures the device takes it over, data and all.
     */
    private static final Map<DevT, Brd> KEPT = new ConcurrentHashMap<>();

    private final BlockDeviceRegistry registry;
    private final PagePool pool;
    private final Map<Integer, RamDisk> disks = new TreeMap<>();
    /** After destroy(): the devices kept because they were held, until they are let go. */
    private final Map<Integer, RamDisk> kept = new TreeMap<>();
    private final BlockDeviceRegistry.Listener releases = new BlockDeviceRegistry.Listener() {
        @Override
        public void released(DevT devt) {
            removeKept(devt.minor(), true);
        }
    };
    private BrdConfig config;
    private boolean closed;

    /** A driver over the JVM's shared page pool, with its devices made from {@code config}. */
    public Brd(BlockDeviceRegistry registry, BrdConfig config) {
        this(registry, config, PagePool.shared());
    }

    /**
     * A driver whose disks keep their memory in {@code pool}. Memory the pool holds under this
     * driver's keys for devices {@code config} does not have (left by an earlier driver with another
     * configuration) is freed, unless such a device is held.
     *
     * @throws IllegalStateException when a device cannot be published (its name or number is
     *     taken); then nothing was created
     */
    public Brd(BlockDeviceRegistry registry, BrdConfig config, PagePool pool) {
        this.registry = registry;
        this.pool = pool;
        configure(config);
        for (String key : pool.keys(POOL_PREFIX)) {
            int index = indexOf(key.substring(POOL_PREFIX.length()));
            if (index >= config.rdNr() && (index < 0 || registry.openCount(devt(index)) == 0)) {
                pool.release(key);
                LOG.info("brd: freed the memory of {}, which rd_nr={} no longer has", key.substring(POOL_PREFIX.length()), config.rdNr());
            }
        }
    }

    /**
     * Applies a new configuration: adds, removes and resizes devices (see the class comment).
     * Returns the warnings about held devices left as they were (empty when everything applied).
     *
     * @throws IllegalStateException when a new device's name or number is taken by a device of
     *     another driver; then nothing was changed
     */
    public synchronized List<String> configure(BrdConfig newConfig) {
        if (closed) throw new IllegalStateException("brd: the driver is closed");
        long sizeBytes = newConfig.sizeBytes();
        List<String> warnings = new ArrayList<>();
        List<Integer> remove = new ArrayList<>();
        List<Integer> add = new ArrayList<>();
        for (Map.Entry<Integer, RamDisk> e : disks.entrySet()) {
            int index = e.getKey();
            boolean unwanted = index >= newConfig.rdNr();
            boolean resized = !unwanted && e.getValue().sizeBytes() != sizeBytes;
            if (!unwanted && !resized) continue;
            List<String> users = users(devt(index));
            if (!users.isEmpty()) {
                warnings.add("brd: ram" + index + " is in use by " + users + "; it is kept "
                        + (unwanted ? "although rd_nr=" + newConfig.rdNr() : "at " + e.getValue().sizeBytes() / 1024 + " KiB although rd_size="
                        + newConfig.rdSizeKiB()) + " until it is no longer in use and the configuration changes again");
                continue;
            }
            remove.add(index);
            if (resized) add.add(index);
        }
        for (int i = 0; i < newConfig.rdNr(); i++) if (!disks.containsKey(i)) add.add(i);
        // Refuse before changing anything when another driver has a name or number we need.
        Map<Integer, Brd> takeOver = new TreeMap<>();
        for (int index : add) {
            BlockDevice other = registry.lookup("ram" + index);
            if (other == null) other = registry.lookup(devt(index));
            RamDisk ours = disks.get(index);
            if (other != null && (ours == null || other != ours.device())) {
                Brd keeper = KEPT.get(devt(index));
                if (keeper == null || !keeper.keeps(index, other)) {
                    throw new IllegalStateException("brd: cannot create ram" + index + " (" + devt(index) + "): " + other.name() + " "
                            + other.devt() + " already exists");
                }
                takeOver.put(index, keeper);
            }
        }
        // A device a destroyed driver kept for its holders is taken over: the holders' I/O waits
        // for the new device of the same name and number, over the same memory.
        takeOver.forEach((index, keeper) -> keeper.removeKept(index, false));
        for (int index : remove) {
            RamDisk disk = disks.remove(index);
            unpublish(disk);
            if (index >= newConfig.rdNr()) pool.release(key(index));
        }
        List<RamDisk> added = new ArrayList<>();
        try {
            for (int index : add) {
                PageStore store = pool.open(key(index), (sizeBytes + Units.PAGE_SIZE - 1) >>> Units.PAGE_SHIFT);
                RamDisk disk = new RamDisk("ram" + index, devt(index), sizeBytes, store);
                registry.add(disk.device());
                disks.put(index, disk);
                added.add(disk);
            }
        } catch (RuntimeException e) {
            // Only a race with another driver gets here (checked above): take back what was added.
            for (RamDisk disk : added) {
                disks.values().remove(disk);
                unpublish(disk);
            }
            throw e;
        }
        config = newConfig;
        for (String w : warnings) LOG.warn(w);
        if (!add.isEmpty() || !remove.isEmpty()) LOG.info("brd: {}, devices: {}", newConfig, disks.size());
        return warnings;
    }

    private void unpublish(RamDisk disk) {
        registry.remove(disk.device());
        disk.kill();
    }

    /** The configuration last applied. */
    public synchronized BrdConfig config() {
        return config;
    }

    /** The devices, in order. */
    public synchronized List<RamDisk> disks() {
        return List.copyOf(disks.values());
    }

    /** The device called {@code name} ("ram0"), or null. */
    public synchronized RamDisk disk(String name) {
        int index = indexOf(name);
        return index < 0 ? null : disks.get(index);
    }

    /** One line per device: name, number, size and the memory it holds. */
    public synchronized List<String> status() {
        return disks.values().stream().map(RamDisk::toString).toList();
    }

    /**
     * Stops the driver: its devices leave the registry, their memory stays in the pool for the next
     * driver with this configuration (a bundle stop or update).
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (RamDisk disk : disks.values()) unpublish(disk);
        disks.clear();
    }

    /**
     * Stops the driver and frees the memory of its devices (the configuration was removed). A
     * device that a mapped device holds stays, published and with its data, as Linux keeps a
     * disk that is held open: it goes when the last holder lets go, or passes to a later driver
     * whose configuration has it.
     */
    public synchronized void destroy() {
        if (closed) return;
        closed = true;
        registry.addListener(releases); // before looking at holders, so no release is missed
        for (Map.Entry<Integer, RamDisk> e : disks.entrySet()) {
            DevT devt = devt(e.getKey());
            List<String> users = users(devt);
            if (users.isEmpty()) {
                unpublish(e.getValue());
                continue;
            }
            kept.put(e.getKey(), e.getValue());
            KEPT.put(devt, this);
            LOG.warn("brd: ram{} is in use by {}; it stays, with its data, until nothing holds it", e.getKey(), users);
        }
        disks.clear();
        for (String key : pool.keys(POOL_PREFIX)) {
            String name = key.substring(POOL_PREFIX.length());
            int index = indexOf(name);
            List<String> users = index < 0 ? List.of() : users(devt(index));
            if (users.isEmpty() && !kept.containsKey(index)) {
                pool.release(key);
            } else if (!kept.containsKey(index)) {
                LOG.warn("brd: {} is in use by {}; its memory is kept", name, users);
            }
        }
        if (kept.isEmpty()) registry.removeListener(releases);
    }

    /**
     * Who has the disk open, as 6.1 counts openers (a module whose disk is open cannot be removed):
     * the mapped devices stacked on it, then whoever holds it through a handle (an NBD client, dd).
     */
    private List<String> users(DevT devt) {
        List<String> users = new ArrayList<>();
        registry.holders(devt).stream().map(DevT::toString).sorted().forEach(users::add);
        users.addAll(registry.openers(devt));
        return users;
    }

    /** True when this destroyed driver still publishes {@code device} as ram{@code index}. */
    private synchronized boolean keeps(int index, BlockDevice device) {
        RamDisk disk = kept.get(index);
        return disk != null && disk.device() == device;
    }

    /**
     * Withdraws a device kept for its holders: freeing its memory when the last holder let go,
     * keeping it when a new driver takes the device over.
     */
    private synchronized void removeKept(int index, boolean free) {
        if (free && registry.openCount(devt(index)) != 0) return;
        RamDisk disk = kept.remove(index);
        if (disk == null) return;
        KEPT.remove(devt(index), this);
        unpublish(disk);
        if (free) {
            pool.release(key(index));
            LOG.info("brd: ram{} is no longer held; removed", index);
        }
        if (kept.isEmpty()) registry.removeListener(releases);
    }

    /** The devices a destroyed driver still publishes because they are held. */
    public synchronized List<RamDisk> keptDisks() {
        return List.copyOf(kept.values());
    }

    private static String key(int index) {
        return POOL_PREFIX + "ram" + index;
    }

    private static DevT devt(int index) {
        return new DevT(DevT.RAMDISK_MAJOR, index);
    }

    /** N for "ramN", or -1. */
    private static int indexOf(String name) {
        if (name == null || !name.startsWith("ram") || name.length() == 3) return -1;
        try {
            int n = Integer.parseInt(name.substring(3));
            return n >= 0 && name.equals("ram" + n) ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public String toString() {
        return "brd " + config;
    }
}
