package org.dmstack.block;

import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A device's sysfs-like attributes, by their path below {@code /sys/block/NAME} ("size",
 * "queue/write_cache", "dm/name"...). Values are the text {@code cat} would print, without the
 * trailing newline; writable attributes take the text {@code echo} would write.
 */
public final class Attributes {
    private record Attribute(Supplier<String> read, Consumer<String> write) {}

    private final Map<String, Attribute> attributes = new ConcurrentSkipListMap<>();

    /** A read-only attribute. */
    public void define(String path, Supplier<String> read) {
        attributes.put(path, new Attribute(read, null));
    }

    /**
     * A writable attribute. {@code write} throws IllegalArgumentException for a value it does not
     * accept, and then changes nothing.
     */
    public void define(String path, Supplier<String> read, Consumer<String> write) {
        attributes.put(path, new Attribute(read, write));
    }

    public void remove(String path) {
        attributes.remove(path);
    }

    public boolean has(String path) {
        return attributes.containsKey(path);
    }

    public boolean isWritable(String path) {
        Attribute a = attributes.get(path);
        return a != null && a.write() != null;
    }

    /** @throws IllegalArgumentException "No such file or directory" for an unknown path */
    public String read(String path) {
        Attribute a = attributes.get(path);
        if (a == null) throw new IllegalArgumentException(path + ": No such file or directory");
        return a.read().get();
    }

    /**
     * @throws IllegalArgumentException "Permission denied" for a read-only attribute, "No such file
     *     or directory" for an unknown one, or the attribute's own reason for a bad value
     */
    public void write(String path, String value) {
        Attribute a = attributes.get(path);
        if (a == null) throw new IllegalArgumentException(path + ": No such file or directory");
        if (a.write() == null) throw new IllegalArgumentException(path + ": Permission denied");
        a.write().accept(value.strip());
    }

    /** Every attribute path, sorted. */
    public NavigableSet<String> paths() {
        return new TreeSet<>(attributes.keySet());
    }
}
