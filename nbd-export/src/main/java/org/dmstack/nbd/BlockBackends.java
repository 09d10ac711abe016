package org.dmstack.nbd;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nbd.server.Backend;
import org.dmstack.nbd.server.Backends;

/**
 * The devices of a registry as the NBD server's {@link Backends}: an export's source is a
 * device name ("ram0", "/dev/dm-0") or number ("1:0"), looked up as the registry looks it up.
 * A device that leaves has its backend withdrawn before the server hears of it; one that
 * arrives gets a new backend. {@link #close} withdraws them all (nbd-export stopping).
 */
public final class BlockBackends implements Backends, BlockDeviceRegistry.Listener, AutoCloseable {
    private final BlockDeviceRegistry registry;
    private final Map<BlockDevice, BlockBackend> backends = new ConcurrentHashMap<>();
    private final List<Runnable> followers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    /** Follows {@code registry} until {@link #close}. */
    public BlockBackends(BlockDeviceRegistry registry) {
        this.registry = registry;
        registry.addListener(this);
    }

    @Override
    public Backend find(String source) {
        BlockDevice d = registry.lookup(source);
        if (d == null || closed) return null;
        BlockBackend b = backends.computeIfAbsent(d, device -> new BlockBackend(device, registry));
        // The device may have left (or we closed) between the lookup and now: then removed()
        // may have missed this backend, so withdraw it here.
        if (registry.lookup(d.devt()) != d || closed) {
            backends.remove(d, b);
            b.withdraw();
            return null;
        }
        return b;
    }

    @Override
    public List<String> names() {
        return closed ? List.of() : registry.devices().stream().map(BlockDevice::name).toList();
    }

    @Override
    public void follow(Runnable changed) {
        followers.add(changed);
    }

    @Override
    public void unfollow(Runnable changed) {
        followers.remove(changed);
    }

    @Override
    public void added(BlockDevice device) {
        changed();
    }

    @Override
    public void removed(BlockDevice device) {
        BlockBackend b = backends.remove(device);
        if (b != null) b.withdraw();
        changed();
    }

    private void changed() {
        for (Runnable r : followers) r.run();
    }

    /** Stops following the registry and withdraws every backend; followers hear of it. */
    @Override
    public void close() {
        closed = true;
        registry.removeListener(this);
        backends.values().forEach(BlockBackend::withdraw);
        backends.clear();
        changed();
    }
}
