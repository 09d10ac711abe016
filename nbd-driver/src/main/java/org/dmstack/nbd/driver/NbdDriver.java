package org.dmstack.nbd.driver;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;

/**
 * The nbd driver: remote NBD exports imported as block devices {@code nbd0, nbd1, ...}
 * (43:0, 43:32, ... as in Linux). Usable from plain Java:
 *
 * <pre>{@code
 * NbdDriver nbd = new NbdDriver(registry);
 * NbdDevice dev = nbd.add(NbdDeviceConfig.of("nbd://server:10809/disk"));  // nbd0
 * // nbd0 is in the registry as soon as the server has been reached
 * nbd.remove("nbd0");
 * }</pre>
 *
 * <p>Each device connects, reconnects and holds I/O on its own (see {@link NbdDevice}); the
 * driver hands out names and numbers and refuses a configuration that would take a name or
 * number another device has.
 */
public class NbdDriver implements AutoCloseable {
    private final BlockDeviceRegistry registry;
    private final Map<Integer, NbdDevice> devices = new TreeMap<>();
    private boolean closed;

    public NbdDriver(BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    /**
     * Imports an export: the device is named at once and appears in the registry when the
     * server has been reached.
     *
     * @throws IllegalStateException when the name or its number is taken; then nothing was done
     */
    public synchronized NbdDevice add(NbdDeviceConfig config) {
        if (closed) throw new IllegalStateException("nbd: the driver is closed");
        int index;
        if (config.name() != null) {
            index = indexOf(config.name());
            NbdDevice same = devices.get(index);
            if (same != null) throw new IllegalStateException("nbd: " + config.name() + " is already configured (" + same.config().uri() + ")");
        } else {
            index = 0;
            while (devices.containsKey(index) || taken(index)) index++;
        }
        if (taken(index)) {
            BlockDevice other = registry.lookup("nbd" + index);
            if (other == null) other = registry.lookup(devt(index));
            throw new IllegalStateException("nbd: cannot create nbd" + index + " (" + devt(index) + "): " + other.name() + " " + other.devt()
                    + " already exists");
        }
        NbdDevice device = new NbdDevice("nbd" + index, devt(index), config, registry);
        devices.put(index, device);
        device.start();
        return device;
    }

    private boolean taken(int index) {
        return registry.lookup("nbd" + index) != null || registry.lookup(devt(index)) != null;
    }

    /** Removes a device (see {@link NbdDevice#close()}); false when there is none of that name. */
    public boolean remove(String name) {
        NbdDevice device;
        synchronized (this) {
            device = devices.remove(indexOf(name));
        }
        if (device == null) return false;
        device.close();
        return true;
    }

    /** The device called {@code name}, or null. */
    public synchronized NbdDevice device(String name) {
        return devices.get(indexOf(name));
    }

    public synchronized List<NbdDevice> devices() {
        return List.copyOf(devices.values());
    }

    /** One line per device: name, number, URI, size, flags and connections. */
    public synchronized List<String> status() {
        return devices.values().stream().map(NbdDevice::toString).toList();
    }

    /** Removes every device. */
    @Override
    public void close() {
        List<NbdDevice> all;
        synchronized (this) {
            closed = true;
            all = List.copyOf(devices.values());
            devices.clear();
        }
        all.parallelStream().forEach(NbdDevice::close);
    }

    /** Linux numbers nbd devices 16 partitions apart: nbdN is 43:(N &lt;&lt; 5). */
    public static DevT devt(int index) {
        return new DevT(NbdDevice.NBD_MAJOR, index << NbdDevice.PART_SHIFT);
    }

    /** N for "nbdN", or -1. */
    static int indexOf(String name) {
        if (name == null || !name.startsWith("nbd") || name.length() == 3) return -1;
        try {
            int n = Integer.parseInt(name.substring(3));
            return n >= 0 && n < (1 << (20 - NbdDevice.PART_SHIFT)) && name.equals("nbd" + n) ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
