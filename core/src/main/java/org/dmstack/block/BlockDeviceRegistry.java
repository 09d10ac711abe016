package org.dmstack.block;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;

/**
 * The devices that exist, found by name ("ram0", "/dev/ram0") or number ("1:0"), and who holds
 * them (a mapped device whose table uses them). Drivers add and remove their devices here;
 * device-mapper and the tools look them up. Listeners hear of arrivals and departures.
 *
 * <p>Device numbers stay with a name: a driver that goes away and comes back with "pmem0" gets
 * the same 259:x again, so the layers above can recognise and rebind it.
 *
 * <p>In a framework this is a service that the drivers and device-mapper share; embedded, a
 * program makes one and hands it to each.
 */
@Component(service = BlockDeviceRegistry.class)
public final class BlockDeviceRegistry {
    /** Hears devices come and go. Called on the thread that added or removed the device. */
    public interface Listener {
        void added(BlockDevice device);

        void removed(BlockDevice device);

        /**
         * The last device stacked on {@code devt} let go of it: a driver that keeps a device only
         * because it is held (as Linux keeps a disk that is open) may now remove it.
         */
        default void released(DevT devt) {}
    }

    private final Map<String, BlockDevice> byName = new ConcurrentHashMap<>();
    private final Map<DevT, BlockDevice> byDevt = new ConcurrentHashMap<>();
    private final Map<String, DevT> numbers = new ConcurrentHashMap<>();
    private final Map<DevT, Set<DevT>> holders = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    /**
     * The device number for a name under a major: the one it had before, or the lowest minor that
     * no other name has had.
     */
    public synchronized DevT allocate(int major, String name) {
        DevT known = numbers.get(name);
        if (known != null && known.major() == major) return known;
        int minor = 0;
        Collection<DevT> taken = numbers.values();
        while (taken.contains(new DevT(major, minor)) || byDevt.containsKey(new DevT(major, minor))) minor++;
        DevT devt = new DevT(major, minor);
        numbers.put(name, devt);
        return devt;
    }

    /** Publishes a device. @throws IllegalStateException when the name or number is taken */
    public void add(BlockDevice device) {
        synchronized (this) {
            BlockDevice sameName = byName.get(device.name());
            if (sameName != null) throw new IllegalStateException("Device " + device.name() + " already exists (" + sameName.devt() + ")");
            BlockDevice sameNumber = byDevt.get(device.devt());
            if (sameNumber != null) {
                throw new IllegalStateException("Device number " + device.devt() + " is already used by " + sameNumber.name());
            }
            byName.put(device.name(), device);
            byDevt.put(device.devt(), device);
            numbers.put(device.name(), device.devt());
        }
        for (Listener l : listeners) l.added(device);
    }

    /** Withdraws a device; listeners hear of it after it can no longer be looked up. */
    public void remove(BlockDevice device) {
        synchronized (this) {
            if (byName.get(device.name()) != device) return;
            byName.remove(device.name());
            byDevt.remove(device.devt());
        }
        for (Listener l : listeners) l.removed(device);
    }

    /** Finds a device by "name", "/dev/name" or "major:minor"; null when there is none. */
    public BlockDevice lookup(String path) {
        DevT devt = DevT.parse(path);
        if (devt != null) return byDevt.get(devt);
        return byName.get(path.startsWith("/dev/") ? path.substring(5) : path);
    }

    public BlockDevice lookup(DevT devt) {
        return byDevt.get(devt);
    }

    /** Every device, ordered by device number. */
    public List<BlockDevice> devices() {
        List<BlockDevice> all = new ArrayList<>(byDevt.values());
        all.sort(Comparator.comparing(BlockDevice::devt));
        return all;
    }

    /** Records that the device {@code holder} (a mapped device) is stacked on {@code devt}. */
    public void addHolder(DevT devt, DevT holder) {
        holders.computeIfAbsent(devt, d -> ConcurrentHashMap.newKeySet()).add(holder);
    }

    public void removeHolder(DevT devt, DevT holder) {
        boolean[] released = {false};
        holders.computeIfPresent(devt, (d, set) -> {
            released[0] = set.remove(holder) && set.isEmpty();
            return set.isEmpty() ? null : set;
        });
        if (released[0]) for (Listener l : listeners) l.released(devt);
    }

    /** Who uses a device: the numbers of the devices stacked on it (sysfs holders/). */
    public Set<DevT> holders(DevT devt) {
        Set<DevT> set = holders.get(devt);
        return set == null ? Set.of() : Set.copyOf(set);
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }
}
