package org.dmstack.dm;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.DiskStats;

/**
 * device-mapper's control interface: what dmsetup does (create, load, suspend, resume, remove,
 * rename, info, table, status, ls, deps, targets, message). As Linux's dm-ioctl, it returns data
 * (records such as {@link DeviceInfo}); tools print it. Table and status lines are the targets'
 * own text, as the kernel returns them.
 *
 * <pre>{@code
 * BlockDeviceRegistry registry = new BlockDeviceRegistry();
 * DeviceMapper dm = new DeviceMapper(registry);
 * dm.targetTypes().register(new LinearTargetType());
 * MappedDevice md = dm.create("lv0", "0 2048 linear ram0 0");
 * }</pre>
 *
 * Every operation either does all it says or throws a {@link DmException} and changes nothing.
 * Mapped devices are published in the registry as dm-N (254:N).
 */
public class DeviceMapper implements AutoCloseable {
    /** How long I/O is held for a device or target type that went away, by default. */
    public static final long DEFAULT_HOLD_MILLIS = 30_000;
    /** DM_UUID_LEN less its terminating NUL. */
    private static final int UUID_MAX = 128;

    private final BlockDeviceRegistry registry;
    private final TargetTypes types = new TargetTypes();
    private final Map<String, MappedDevice> byName = new LinkedHashMap<>();
    private final Map<DevT, DeviceHandle> handles = new ConcurrentHashMap<>();
    /** Devices whose tables lost a target type: the table text to rebuild when it returns. */
    private final Map<MappedDevice, Orphan> orphans = new LinkedHashMap<>();
    private final ScheduledExecutorService timer;
    private volatile long holdMillis = DEFAULT_HOLD_MILLIS;
    private volatile boolean closed;
    private final LongSupplier jiffies;
    private final BlockDeviceRegistry.Listener listener = new BlockDeviceRegistry.Listener() {
        @Override
        public void added(BlockDevice device) {
            DeviceHandle h = handles.get(device.devt());
            if (h != null && h.sameIdentity(device) && !h.bound()) h.bind(device);
        }

        @Override
        public void removed(BlockDevice device) {
            DeviceHandle h = handles.get(device.devt());
            if (h != null && h.sameIdentity(device)) h.unbind();
        }

        @Override
        public void released(DevT devt) {
            removeDeferred(devt);
        }
    };

    private record Orphan(List<TableLine> live, List<TableLine> inactive, String missing, ScheduledFuture<?> timeout) {}

    public DeviceMapper(BlockDeviceRegistry registry) {
        this(registry, DiskStats::systemJiffies);
    }

    /** @param jiffies the clock of the mapped devices' I/O statistics, in milliseconds */
    public DeviceMapper(BlockDeviceRegistry registry, LongSupplier jiffies) {
        this.registry = registry;
        this.jiffies = jiffies;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dm-hold-timer");
            t.setDaemon(true);
            return t;
        });
        registry.addListener(listener);
        types.listen(this::typeAdded, this::typeRemoved);
    }

    /** The target types; target bundles register theirs here (the OSGi component does it for services). */
    public TargetTypes targetTypes() {
        return types;
    }

    public BlockDeviceRegistry registry() {
        return registry;
    }

    /** How long I/O waits for a device or target type that went away before it fails with IOERR. */
    public void setHoldTimeout(long millis) {
        if (millis < 0) throw new IllegalArgumentException("hold timeout must not be negative");
        holdMillis = millis;
    }

    public long holdTimeout() {
        return holdMillis;
    }

    // ---- lifecycle ----

    /**
     * dmsetup create NAME [--table TEXT]: a new device; with a table, loaded and resumed. A table
     * with no target lines creates the device without a table, as dmsetup does (libdm loads a table
     * only when it has targets), like {@code --notable}.
     */
    public MappedDevice create(String name, String table) {
        return create(name, null, table);
    }

    public MappedDevice create(String name, String uuid, String table) {
        return create(name, uuid, table, false);
    }

    /**
     * dmsetup create [-r] NAME: with {@code readOnly} the table is loaded read-only
     * (DM_READONLY_FLAG), and the device is read-only while it is live.
     */
    public synchronized MappedDevice create(String name, String uuid, String table, boolean readOnly) {
        checkName(name);
        if (byName.containsKey(name)) throw new DmException("create ioctl on " + name + " failed: Device or resource busy (a device with this name exists)");
        if (uuid != null) {
            for (MappedDevice md : byName.values()) {
                if (uuid.equals(md.uuid())) throw new DmException("create ioctl on " + name + " failed: Device or resource busy (uuid " + uuid + " is used by " + md.name() + ")");
            }
        }
        List<TableLine> lines = table == null ? List.of() : TableLine.parse(table);
        MappedDevice md = new MappedDevice(name, uuid, new DevT(DevT.DM_MAJOR, freeMinor()), jiffies);
        if (!lines.isEmpty()) {
            DmTable t = build(md, lines, true);
            md.setInactive(t, readOnly);
            md.resume();
        }
        byName.put(name, md);
        registry.add(md.disk());
        syncHolders(md, Set.of());
        return md;
    }

    /**
     * dmsetup load NAME: constructs the table into the inactive slot, replacing what was there.
     * As 6.1's table_load, only a device's first table has its device areas checked here (by
     * dm_setup_md_queue); a later one is checked when it is resumed.
     */
    public void load(String name, String table) {
        load(name, table, false);
    }

    /**
     * dmsetup load [-r] NAME: with {@code readOnly} the table's mode has no write (DM_READONLY_FLAG),
     * and do_resume makes the device read-only when it swaps the table in (set_disk_ro), writable
     * again for a table loaded without it.
     */
    public synchronized void load(String name, String table, boolean readOnly) {
        MappedDevice md = get(name);
        List<TableLine> lines = parseTable(table);
        Set<DevT> before = allDeps(md);
        DmTable t = build(md, lines, !md.typed());
        if (!md.typeAllows(t)) {
            destroy(t);
            throw new DmException("reload ioctl on " + name + " failed: Invalid argument (can't change device type after initial table load: "
                    + md.disk().name() + "'s first table was DAX-capable, this one is not)");
        }
        DmTable old = md.setInactive(t, readOnly);
        if (old != null) destroy(old);
        syncHolders(md, before);
    }

    /** dmsetup clear NAME: drops the inactive table. */
    public synchronized void clear(String name) {
        MappedDevice md = get(name);
        Set<DevT> before = allDeps(md);
        DmTable old = md.setInactive(null);
        if (old != null) destroy(old);
        syncHolders(md, before);
    }

    /** dmsetup suspend NAME: in-flight I/O completes, new I/O waits. */
    public synchronized void suspend(String name) {
        get(name).suspend();
    }

    /**
     * dmsetup resume NAME: the inactive table (if any) becomes live atomically, then held I/O goes.
     * An inactive table whose device areas are bad (dm_swap_table's dm_calculate_queue_limits) is
     * destroyed, and the device stays suspended on its old table, as 6.1's do_resume leaves it. A
     * suspended device with no table at all stays suspended (dm_resume refuses a device without a
     * map); one that is not suspended and has nothing to swap in is left as it is.
     */
    public synchronized void resume(String name) {
        MappedDevice md = get(name);
        Set<DevT> before = allDeps(md);
        DmTable next = md.inactive();
        if (next == null && md.suspended() && !md.hasLiveTable() && !orphans.containsKey(md)) {
            throw new DmException("resume ioctl on " + name + " failed: Invalid argument (no table to resume: load one first)");
        }
        if (next != null) {
            try {
                next.checkAreas();
            } catch (DmException e) {
                md.suspend();
                destroy(md.setInactive(null));
                syncHolders(md, before);
                throw new DmException("resume ioctl on " + name + " failed: Invalid argument (" + e.getMessage() + ")", e);
            }
        }
        DmTable old = md.resume();
        if (old != null) destroy(old);
        syncHolders(md, before);
    }

    /** dmsetup remove NAME: refused while the device is open (another table uses it, an NBD client, dd). */
    public void remove(String name) {
        remove(name, false);
    }

    /**
     * dmsetup remove [--deferred] NAME. A device that is open is busy (dm_lock_for_deletion: its
     * open_count is not 0), whoever opened it: a table stacked on it, an NBD client, dd while it
     * copies. With {@code deferred} it is marked instead, and goes when its last opener lets go
     * (dm_blk_close's deferred remove), unless {@code @cancel_deferred_remove} comes first.
     */
    public synchronized void remove(String name, boolean deferred) {
        MappedDevice md = get(name);
        if (!registry.lockForDeletion(md.devt())) {
            if (deferred) {
                md.setDeferredRemove(true);
                return;
            }
            throw new DmException("remove ioctl on " + name + " failed: Device or resource busy (used by " + users(md.devt()) + ")");
        }
        destroyDevice(md);
    }

    /**
     * dmsetup remove_all [--deferred]: every device that is not open, until no more can go (6.1's
     * dm_hash_remove_all keeping open devices); those still open are marked for deferred removal
     * with {@code deferred}. Returns how many devices are left.
     */
    public synchronized int removeAll(boolean deferred) {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (MappedDevice md : devices()) {
                if (!registry.lockForDeletion(md.devt())) {
                    if (deferred) md.setDeferredRemove(true);
                    continue;
                }
                destroyDevice(md);
                progress = true;
                break;
            }
        }
        return byName.size();
    }

    /** dm_deferred_remove: a device marked for it goes once nothing has it open. */
    private synchronized void removeDeferred(DevT devt) {
        MappedDevice md = byDevt(devt);
        if (md != null && md.deferredRemove() && registry.lockForDeletion(devt)) destroyDevice(md);
    }

    private void destroyDevice(MappedDevice md) {
        String name = md.name();
        Set<DevT> before = allDeps(md);
        // __hash_remove's dm_table_event: whoever waits for an event on the device wakes.
        md.tableEvent();
        md.block();
        md.failDeferred(md.disk().name() + " (" + name + ") was removed");
        md.daxDevice().kill();
        registry.remove(md.disk());
        byName.remove(name);
        Orphan orphan = orphans.remove(md);
        if (orphan != null) orphan.timeout().cancel(false);
        DmTable live = md.live(), inactive = md.setInactive(null);
        if (live != null) destroy(live);
        if (inactive != null) destroy(inactive);
        // A clone kept with a caller's bio may keep the device: not the tables, their targets and devices.
        md.detachTables();
        syncHolders(md, before);
        md.release();
    }

    /**
     * dmsetup rename OLD NEW. As 6.1's dm_hash_rename, the live table's event is raised (the event
     * number goes up when there is one).
     */
    public synchronized void rename(String oldName, String newName) {
        MappedDevice md = get(oldName);
        checkName(newName);
        if (byName.containsKey(newName)) {
            throw new DmException("rename ioctl on " + oldName + " failed: Device or resource busy (Unable to change name on mapped device "
                    + md.name() + " to one that already exists: " + newName + ")");
        }
        byName.remove(md.name());
        md.rename(newName);
        byName.put(newName, md);
        md.tableEvent();
    }

    /**
     * dmsetup rename NAME --setuuid UUID: gives a uuid to a device that has none. As 6.1's
     * dev_rename and dm_hash_rename: at most 128 characters, not another device's, and set only
     * once; the live table's event is raised.
     */
    public synchronized void setUuid(String name, String uuid) {
        MappedDevice md = get(name);
        if (uuid == null || uuid.isEmpty() || uuid.length() > UUID_MAX) {
            throw new DmException("rename ioctl on " + name + " failed: Invalid argument (Invalid new mapped device name or uuid string supplied.)");
        }
        for (MappedDevice other : byName.values()) {
            if (uuid.equals(other.uuid())) {
                throw new DmException("rename ioctl on " + name + " failed: Device or resource busy (Unable to change uuid on mapped device "
                        + md.name() + " to one that already exists: " + uuid + ")");
            }
        }
        if (md.uuid() != null) {
            throw new DmException("rename ioctl on " + name + " failed: Invalid argument (Unable to change uuid of mapped device "
                    + md.name() + " to " + uuid + " because uuid is already set to " + md.uuid() + ")");
        }
        md.setUuid(uuid);
        md.tableEvent();
    }

    /**
     * dmsetup wait NAME [EVENT_NR]: blocks until the device's event number is no longer
     * {@code eventNr} (dev_wait's dm_wait_event; dmsetup passes 0 when no number is given), then
     * returns the device's state.
     */
    public DeviceInfo waitEvent(String name, int eventNr) throws InterruptedException {
        MappedDevice md = get(name);
        md.awaitEvent(eventNr);
        return info(md);
    }

    /**
     * dmsetup message NAME SECTOR MESSAGE...: returns what the target answered. As 6.1's
     * target_message and message_for_md: an empty message is refused first; a word starting with
     * '@' is dm's own and never reaches a target; without a live table the message is taken and
     * nothing is answered.
     */
    public synchronized String message(String name, long sector, List<String> args) {
        MappedDevice md = get(name);
        if (args.isEmpty()) throw messageFailed(name, "Invalid argument (Empty message received.)", null);
        if (args.get(0).startsWith("@")) {
            String answer;
            try {
                answer = md.stats().message(args, md.disk().capacity());
            } catch (TargetException e) {
                throw messageFailed(name, e.getMessage(), e);
            }
            if (answer != null) return answer;
            if (args.get(0).equalsIgnoreCase("@cancel_deferred_remove")) {
                // dm_cancel_deferred_remove: takes the mark off, and answers nothing whether there was one or not.
                if (args.size() != 1) throw messageFailed(name, "Invalid argument (Invalid arguments for @cancel_deferred_remove)", null);
                md.setDeferredRemove(false);
                return "";
            }
            throw messageFailed(name, "Invalid argument (Unsupported message sent to DM core: " + args.get(0) + ")", null);
        }
        DmTable t = md.live();
        if (t == null) return "";
        if (sector < 0 || sector >= t.size) throw messageFailed(name, "Invalid argument (Target message sector outside device.)", null);
        int i = t.findTarget(sector);
        try {
            return t.targets[i].message(args);
        } catch (TargetException e) {
            // A target may refuse without a reason, as Linux's do where they log nothing: dmsetup then says no more.
            String why = e.getMessage() == null || e.getMessage().isEmpty() ? "" : " (" + e.getMessage() + ")";
            throw messageFailed(name, "Invalid argument" + why, e);
        }
    }

    private static DmException messageFailed(String name, String why, Throwable cause) {
        return new DmException("message ioctl on " + name + " failed: " + why, cause);
    }

    // ---- lookups and output ----

    public synchronized MappedDevice get(String name) {
        MappedDevice md = byName.get(name.startsWith("/dev/mapper/") ? name.substring(12) : name);
        if (md == null) {
            String disk = name.startsWith("/dev/") ? name.substring(5) : name;
            for (MappedDevice m : byName.values()) if (m.disk().name().equals(disk) || m.devt().toString().equals(name)) return m;
            throw DmException.noSuchDevice(name);
        }
        return md;
    }

    public synchronized List<MappedDevice> devices() {
        List<MappedDevice> all = new ArrayList<>(byName.values());
        all.sort((a, b) -> a.name().compareTo(b.name()));
        return all;
    }

    /** dmsetup table NAME (the live table, or with {@code inactive} the inactive one). */
    public synchronized String table(String name, boolean inactive) {
        MappedDevice md = get(name);
        DmTable t = inactive ? md.inactive() : md.live();
        return t == null ? "" : t.format(StatusType.TABLE);
    }

    public String table(String name) {
        return table(name, false);
    }

    /** dmsetup status NAME. */
    public String status(String name) {
        return status(name, false);
    }

    /** dmsetup status NAME (the live table's targets, or with {@code inactive} the inactive table's: table_status). */
    public synchronized String status(String name, boolean inactive) {
        MappedDevice md = get(name);
        DmTable t = inactive ? md.inactive() : md.live();
        return t == null ? "" : t.format(StatusType.INFO);
    }

    /** dmsetup info NAME: the device's state (DM_DEV_STATUS). */
    public synchronized DeviceInfo info(String name) {
        return info(get(name));
    }

    /** dmsetup ls: every device's state, by name (DM_LIST_DEVICES). */
    public synchronized List<DeviceInfo> list() {
        List<DeviceInfo> all = new ArrayList<>();
        for (MappedDevice md : devices()) all.add(info(md));
        return all;
    }

    private synchronized DeviceInfo info(MappedDevice md) {
        return new DeviceInfo(md.name(), md.uuid(), md.devt(), md.suspended(), md.hasLiveTable(), md.hasInactiveTable(),
                registry.openCount(md.devt()), md.eventNumber(), md.live() == null ? 0 : md.live().targets.length,
                md.hasLiveTable() && md.readOnly(), md.deferredRemove());
    }

    /** dmsetup deps NAME: the devices the live table uses, in table order (DM_TABLE_DEPS). */
    public synchronized List<DevT> deps(String name) {
        MappedDevice md = get(name);
        List<DevT> deps = new ArrayList<>();
        for (DeviceHandle d : md.devicesOf(md.live())) deps.add(d.devt());
        return deps;
    }

    /** dmsetup targets: the registered target types, newest registration first (DM_LIST_VERSIONS). */
    public List<TargetVersion> targets() {
        List<TargetVersion> all = new ArrayList<>();
        for (TargetType t : types.all()) {
            int[] v = t.version();
            all.add(new TargetVersion(t.name(), v[0], v[1], v[2]));
        }
        return all;
    }

    // ---- internals ----

    private static void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains("/") || name.length() > 127 || name.equals(".") || name.equals("..")) {
            throw new DmException("Invalid device name '" + name + "'");
        }
    }

    /** The lines of a table to load: the kernel refuses a load without targets (populate_table). */
    private static List<TableLine> parseTable(String text) {
        List<TableLine> lines = TableLine.parse(text);
        if (lines.isEmpty()) throw DmException.tableRefused("no targets specified", TableLine.INVALID, null);
        return lines;
    }

    private int freeMinor() {
        Set<Integer> used = new HashSet<>();
        for (MappedDevice md : byName.values()) used.add(md.devt().minor());
        for (BlockDevice d : registry.devices()) if (d.devt().major() == DevT.DM_MAJOR) used.add(d.devt().minor());
        int minor = 0;
        while (used.contains(minor)) minor++;
        return minor;
    }

    private MappedDevice byDevt(DevT devt) {
        for (MappedDevice md : byName.values()) if (md.devt().equals(devt)) return md;
        return null;
    }

    /** Builds a table for {@code md}, taking a reference on each device once. */
    private DmTable build(MappedDevice md, List<TableLine> lines, boolean checkAreas) {
        List<DeviceHandle> taken = new ArrayList<>();
        return DmTable.build(md.name(), lines, types, path -> {
            BlockDevice device = lookup(path);
            if (device == null) throw new TargetException(path + ": No such device");
            if (device.devt().equals(md.devt()) || dependsOn(device.devt(), md.devt())) {
                throw new TargetException(path + ": a device cannot be stacked on itself");
            }
            DeviceHandle h = handles.get(device.devt());
            if (h == null || !h.sameIdentity(device)) {
                h = new DeviceHandle(device, timer, () -> holdMillis);
                handles.put(device.devt(), h);
            }
            if (!taken.contains(h)) {
                taken.add(h);
                h.references++;
            }
            return h;
        }, () -> taken.forEach(this::release), checkAreas);
    }

    private BlockDevice lookup(String path) {
        BlockDevice device = registry.lookup(path);
        if (device != null) return device;
        String dmName = path.startsWith("/dev/mapper/") ? path.substring(12) : path;
        MappedDevice md = byName.get(dmName);
        return md == null ? null : md.disk();
    }

    /** True when the mapped device {@code top} is (transitively) built on {@code bottom}. */
    private boolean dependsOn(DevT top, DevT bottom) {
        MappedDevice md = byDevt(top);
        if (md == null) return false;
        for (DmTable t : new DmTable[] {md.live(), md.inactive()}) {
            for (DeviceHandle d : md.devicesOf(t)) {
                if (d.devt().equals(bottom) || dependsOn(d.devt(), bottom)) return true;
            }
        }
        return false;
    }

    private void destroy(DmTable t) {
        t.destroy();
        t.devices.forEach(this::release);
    }

    private void release(DeviceHandle h) {
        if (--h.references == 0) {
            handles.remove(h.devt(), h);
            h.failHeld("the table using " + h.name() + " was destroyed");
        }
    }

    private static Set<DevT> allDeps(MappedDevice md) {
        Set<DevT> all = new HashSet<>();
        for (DeviceHandle d : md.devicesOf(md.live())) all.add(d.devt());
        for (DeviceHandle d : md.devicesOf(md.inactive())) all.add(d.devt());
        return all;
    }

    /** Keeps the registry's holders (who uses whom) in step with md's tables. */
    private void syncHolders(MappedDevice md, Set<DevT> before) {
        Set<DevT> after = byName.get(md.name()) == md ? allDeps(md) : Set.of();
        for (DevT d : before) if (!after.contains(d)) registry.removeHolder(d, md.devt());
        for (DevT d : after) if (!before.contains(d)) registry.addHolder(d, md.devt());
    }

    /** Who has {@code devt} open, for a person: the devices stacked on it by name, then the other openers. */
    private String users(DevT devt) {
        List<String> out = new ArrayList<>();
        for (DevT d : registry.holders(devt)) {
            MappedDevice md = byDevt(d);
            out.add(md != null ? md.name() : d.toString());
        }
        out.sort(null);
        out.addAll(registry.openers(devt));
        return String.join(", ", out);
    }

    // ---- target types coming and going (bundle updates) ----

    private synchronized void typeRemoved(TargetType type) {
        // After close (a framework shutting down unbinds the target types last) there is nothing to hold.
        if (closed) return;
        for (MappedDevice md : new ArrayList<>(byName.values())) {
            DmTable live = md.live(), inactive = md.inactive();
            boolean inLive = live != null && live.uses(type);
            boolean inInactive = inactive != null && inactive.uses(type);
            if (!inLive && !inInactive) continue;
            md.blockRequeueingHeld();
            Orphan previous = orphans.remove(md);
            if (previous != null) previous.timeout().cancel(false);
            List<TableLine> liveLines = live == null ? null : live.lines;
            List<TableLine> inactiveLines = inactive == null ? null : inactive.lines;
            Set<DevT> before = allDeps(md);
            md.detachTables();
            if (live != null) destroy(live);
            if (inactive != null) destroy(inactive);
            syncHolders(md, before);
            if (previous != null) {
                liveLines = previous.live();
                inactiveLines = previous.inactive();
            }
            long millis = holdMillis;
            ScheduledFuture<?> timeout = timer.schedule(() -> holdExpired(md, type.name(), millis), millis, TimeUnit.MILLISECONDS);
            orphans.put(md, new Orphan(liveLines, inactiveLines, type.name(), timeout));
        }
    }

    private synchronized void holdExpired(MappedDevice md, String typeName, long millis) {
        if (!orphans.containsKey(md)) return;
        md.failDeferred(md.disk().name() + " (" + md.name() + "): target type " + typeName + " did not come back within " + millis + " ms");
        md.failFast("target type " + typeName + " is gone");
    }

    private synchronized void typeAdded(TargetType type) {
        if (closed) return;
        for (Map.Entry<MappedDevice, Orphan> e : new ArrayList<>(orphans.entrySet())) {
            MappedDevice md = e.getKey();
            Orphan o = e.getValue();
            try {
                DmTable live = o.live() == null ? null : build(md, o.live(), false);
                DmTable inactive = null;
                try {
                    inactive = o.inactive() == null ? null : build(md, o.inactive(), false);
                } catch (DmException ex) {
                    if (live != null) destroy(live);
                    throw ex;
                }
                orphans.remove(md);
                o.timeout().cancel(false);
                md.reattachTables(live, inactive);
                syncHolders(md, Set.of());
            } catch (DmException stillMissing) {
                // Another type it needs is still away: keep holding.
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        registry.removeListener(listener);
        for (MappedDevice md : new ArrayList<>(byName.values())) {
            registry.remove(md.disk());
            md.failDeferred(md.name() + ": device-mapper is shutting down");
        }
        // Bios waiting for a device below to come back would wait for ever: the timer goes.
        for (DeviceHandle h : handles.values()) h.failHeld(h.name() + ": device-mapper is shutting down");
        timer.shutdownNow();
    }
}
