package org.dmstack.nbd.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/**
 * The exports a server offers. Either fixed devices, or devices followed in a registry: named
 * exports bind to their device whenever it is there; with no names configured, every device
 * in the registry is exported under its own name.
 */
final class ExportTable implements BlockDeviceRegistry.Listener {
    private final BlockDeviceRegistry registry; // null for fixed devices
    private final boolean everyDevice;
    private final Map<String, Export> exports = new ConcurrentHashMap<>();

    private ExportTable(BlockDeviceRegistry registry, boolean everyDevice) {
        this.registry = registry;
        this.everyDevice = everyDevice;
    }

    /** Exports that follow devices in {@code registry}; an empty list exports every device. */
    static ExportTable following(BlockDeviceRegistry registry, List<ExportSpec> specs) {
        ExportTable table = new ExportTable(registry, specs.isEmpty());
        for (ExportSpec spec : specs) table.put(new Export(spec));
        return table;
    }

    /** Exports of devices that never change. */
    static ExportTable fixed(Map<ExportSpec, BlockDevice> devices) {
        ExportTable table = new ExportTable(null, false);
        devices.forEach((spec, device) -> {
            Export e = new Export(spec);
            e.bind(device);
            table.put(e);
        });
        return table;
    }

    private void put(Export e) {
        if (exports.putIfAbsent(e.name(), e) != null) throw new IllegalArgumentException("Export '" + e.name() + "' is configured twice");
    }

    /** Starts following the registry: listen first, then bind what is already there. */
    void open() {
        if (registry == null) return;
        registry.addListener(this);
        for (BlockDevice d : registry.devices()) added(d);
    }

    void close() {
        if (registry != null) registry.removeListener(this);
        exports.values().forEach(Export::shutdown);
    }

    @Override
    public void added(BlockDevice device) {
        if (everyDevice) exports.computeIfAbsent(device.name(), n -> new Export(new ExportSpec(n, n, false)));
        for (Export e : exports.values()) if (e.matches(device)) e.bind(device);
    }

    @Override
    public void removed(BlockDevice device) {
        for (Export e : exports.values()) e.unbind(device);
    }

    /**
     * The export a client asks for by name, if its device is there. The empty name (the
     * protocol's "default export") means the only export, when there is exactly one.
     */
    Export find(String name) {
        if (name.isEmpty()) {
            List<Export> all = available();
            return all.size() == 1 ? all.get(0) : null;
        }
        Export e = exports.get(name);
        return e != null && e.device() != null ? e : null;
    }

    /** The exports whose devices are there, by name. */
    List<Export> available() {
        List<Export> list = new ArrayList<>();
        for (Export e : exports.values()) if (e.device() != null) list.add(e);
        list.sort(Comparator.comparing(Export::name));
        return list;
    }

    /** Every export, with its device or not. */
    List<Export> all() {
        List<Export> list = new ArrayList<>(exports.values());
        list.sort(Comparator.comparing(Export::name));
        return list;
    }
}
