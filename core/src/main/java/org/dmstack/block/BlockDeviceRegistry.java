package org.dmstack.block;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.osgi.service.component.annotations.Component;

/**
 * The devices that exist, found by name ("ram0", "/dev/ram0") or number ("1:0"), who holds
 * them (a mapped device whose table uses them) and who has them open. Drivers add and remove their
 * devices here; device-mapper and the tools look them up and open them. Listeners hear of
 * arrivals and departures.
 *
 * <p>Openers are counted as 6.1 counts them (bd_openers, and a mapped device's open_count): a
 * mapped device stacked on a device counts once, whatever its tables (dm_get_table_device shares
 * a table's devices among the device's tables), and every {@link #open} once more until its
 * handle is closed (an NBD client's connection, dd while it copies).
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
        default void added(BlockDevice device) {}

        default void removed(BlockDevice device) {}

        /**
         * The last opener of {@code devt} let go of it (the last device stacked on it, or the last
         * handle closed): a driver that keeps a device only because it is held (as Linux keeps a
         * disk that is open) may now remove it, and a mapped device marked for deferred removal goes.
         */
        default void released(DevT devt) {}
    }

    private final Map<String, BlockDevice> byName = new ConcurrentHashMap<>();
    private final Map<DevT, BlockDevice> byDevt = new ConcurrentHashMap<>();
    private final Map<String, DevT> numbers = new ConcurrentHashMap<>();
    private final Map<DevT, Set<DevT>> holders = new ConcurrentHashMap<>();
    /** The open handles of each device number; guarded by this, with {@link #holders}' changes. */
    private final Map<DevT, List<BdevHandle>> handles = new HashMap<>();
    /** Devices locked for deletion: no open succeeds until they are removed; guarded by this. */
    private final Set<DevT> deleting = new HashSet<>();
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
            deleting.remove(device.devt());
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

    /** Records that the device {@code holder} (a mapped device) is stacked on {@code devt}: one opener more. */
    public synchronized void addHolder(DevT devt, DevT holder) {
        holders.computeIfAbsent(devt, d -> ConcurrentHashMap.newKeySet()).add(holder);
    }

    public void removeHolder(DevT devt, DevT holder) {
        boolean released;
        synchronized (this) {
            Set<DevT> set = holders.get(devt);
            if (set == null || !set.remove(holder)) return;
            if (set.isEmpty()) holders.remove(devt);
            released = openCount(devt) == 0;
        }
        if (released) for (Listener l : listeners) l.released(devt);
    }

    /**
     * blkdev_get_by_dev: opens {@code device} for {@code holder} (who a person would say has it
     * open). The device counts one opener more until the handle is closed.
     *
     * @throws IllegalStateException when {@code device} is not published here (withdrawn, or never
     *     added) or is being deleted: "NAME: No such device or address", and nothing is opened
     */
    public synchronized BdevHandle open(BlockDevice device, String holder) {
        if (byDevt.get(device.devt()) != device || deleting.contains(device.devt())) {
            throw new IllegalStateException(device.name() + ": No such device or address");
        }
        BdevHandle h = new BdevHandle(this, device.devt(), holder);
        handles.computeIfAbsent(device.devt(), d -> new ArrayList<>()).add(h);
        return h;
    }

    /** blkdev_put, from {@link BdevHandle#close}. */
    void put(BdevHandle h) {
        boolean released;
        synchronized (this) {
            List<BdevHandle> open = handles.get(h.devt());
            if (open == null || !open.remove(h)) return;
            if (open.isEmpty()) handles.remove(h.devt());
            released = openCount(h.devt()) == 0;
        }
        if (released) for (Listener l : listeners) l.released(h.devt());
    }

    /**
     * How many have {@code devt} open (bd_openers; dm_open_count for a mapped device): each
     * device stacked on it once, and each open handle.
     */
    public synchronized int openCount(DevT devt) {
        Set<DevT> stacked = holders.get(devt);
        List<BdevHandle> open = handles.get(devt);
        return (stacked == null ? 0 : stacked.size()) + (open == null ? 0 : open.size());
    }

    /**
     * dm_lock_for_deletion: when nothing has {@code devt} open, makes every later {@link #open} of
     * it fail until the device is removed, and returns true; returns false, changing nothing,
     * while it is open. So no opener slips in between a removal's check and the removal.
     */
    public synchronized boolean lockForDeletion(DevT devt) {
        if (openCount(devt) != 0) return false;
        deleting.add(devt);
        return true;
    }

    /** Who holds {@code devt} open through a handle, as they said at {@link #open}, in the order they opened it. */
    public synchronized List<String> openers(DevT devt) {
        List<BdevHandle> open = handles.get(devt);
        return open == null ? List.of() : open.stream().map(BdevHandle::holder).toList();
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
