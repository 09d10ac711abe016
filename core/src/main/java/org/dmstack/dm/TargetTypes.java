package org.dmstack.dm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The target types device-mapper knows, by table keyword. Target bundles come and go; core's
 * own "error" and "zero" are always there.
 */
public final class TargetTypes {
    private final Map<String, TargetType> byName = new ConcurrentHashMap<>();
    private final List<TargetType> order = new CopyOnWriteArrayList<>();
    private final List<Consumer<TargetType>> onAdd = new CopyOnWriteArrayList<>();
    private final List<Consumer<TargetType>> onRemove = new CopyOnWriteArrayList<>();

    TargetTypes() {
        register(new ErrorTarget.Type());
        register(new ZeroTarget.Type());
    }

    /** dm_register_target. @throws IllegalStateException when another type has the keyword */
    public void register(TargetType type) {
        TargetType old = byName.putIfAbsent(type.name(), type);
        if (old != null && old != type) throw new IllegalStateException("Target type " + type.name() + " is already registered");
        if (old == null) {
            order.addFirst(type);
            for (Consumer<TargetType> c : onAdd) c.accept(type);
        }
    }

    /** dm_unregister_target: tables that use it hold their I/O until a type of that name returns. */
    public void unregister(TargetType type) {
        if (byName.remove(type.name(), type)) {
            order.remove(type);
            for (Consumer<TargetType> c : onRemove) c.accept(type);
        }
    }

    public TargetType get(String name) {
        return byName.get(name);
    }

    /** Newest first, as dmsetup targets lists them. */
    public List<TargetType> all() {
        return new ArrayList<>(order);
    }

    void listen(Consumer<TargetType> added, Consumer<TargetType> removed) {
        onAdd.add(added);
        onRemove.add(removed);
    }
}
