package org.dmstack.pmem;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.dmstack.units.Units;

/**
 * A pmem device from direct configuration, like Linux's legacy {@code memmap=} persistent memory:
 * a file and a size, or a size of anonymous (volatile) memory.
 *
 * @param name the device name, or null for the lowest free pmemN
 * @param path the backing file, or null for anonymous memory (volatile only)
 * @param size bytes; positive and a multiple of the page size
 * @param create whether the file may be created, or grown to {@code size}
 * @param volatileMemory a volatile region: no DAX write cache, nothing survives the device
 */
public record PmemConfig(String name, Path path, long size, boolean create, boolean volatileMemory) {
    public PmemConfig {
        if (name != null && (name.isEmpty() || name.contains("/") || name.isBlank())) {
            throw new IllegalArgumentException("pmem: invalid device name '" + name + "'");
        }
        if (size <= 0) throw new IllegalArgumentException("pmem: size must be positive, not " + size);
        if (size % Units.PAGE_SIZE != 0) {
            throw new IllegalArgumentException("pmem: size " + size + " is not a multiple of the page size (" + Units.PAGE_SIZE + ")");
        }
        if (path == null && !volatileMemory) {
            throw new IllegalArgumentException("pmem: a path is required (only a volatile region can use anonymous memory)");
        }
        if (path == null && create) throw new IllegalArgumentException("pmem: create=true needs a path");
    }

    /** A persistent region over {@code file}. */
    public static PmemConfig file(Path file, long size, boolean create) {
        return new PmemConfig(null, file, size, create, false);
    }

    /** A volatile region over anonymous memory. */
    public static PmemConfig anonymous(long size) {
        return new PmemConfig(null, null, size, false, true);
    }

    /** The same configuration, for a device called {@code name}. */
    public PmemConfig withName(String name) {
        return new PmemConfig(name, path, size, create, volatileMemory);
    }

    /** The same configuration, volatile or not. */
    public PmemConfig withVolatile(boolean volatileMemory) {
        return new PmemConfig(name, path, size, create, volatileMemory);
    }

    /**
     * Reads a configuration from properties as Configuration Admin delivers them: {@code path},
     * {@code size} (with K/M/G/T suffixes), {@code create} and {@code volatile} (true|false),
     * optional {@code name}.
     *
     * @throws IllegalArgumentException naming the property and the value when one is invalid
     */
    public static PmemConfig from(Map<String, ?> properties) {
        Object pathValue = properties.get("path");
        Path path = null;
        if (pathValue != null && !pathValue.toString().isBlank()) {
            try {
                path = Path.of(pathValue.toString().trim());
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("pmem: path '" + pathValue + "' is not a valid path: " + e.getReason());
            }
        }
        Object sizeValue = properties.get("size");
        if (sizeValue == null || sizeValue.toString().isBlank()) throw new IllegalArgumentException("pmem: size is required (for example size=4G)");
        long size;
        if (sizeValue instanceof Number n) {
            size = n.longValue();
        } else {
            String text = sizeValue.toString().trim();
            if (text.startsWith("-")) throw new IllegalArgumentException("pmem: size must be positive, not '" + text + "'");
            try {
                size = Units.parseSize(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("pmem: size: " + e.getMessage());
            }
        }
        Object name = properties.get("name");
        return new PmemConfig(name == null || name.toString().isBlank() ? null : name.toString().trim(), path, size,
                bool(properties, "create"), bool(properties, "volatile"));
    }

    private static boolean bool(Map<String, ?> properties, String key) {
        Object v = properties.get(key);
        if (v == null) return false;
        if (v instanceof Boolean b) return b;
        return switch (v.toString().trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off", "" -> false;
            default -> throw new IllegalArgumentException("pmem: " + key + " must be true or false, not '" + v + "'");
        };
    }

    @Override
    public String toString() {
        return (name == null ? "" : "name=" + name + " ") + (path == null ? "anonymous" : "path=" + path) + " size=" + Units.humanSize(size)
                + (create ? " create=true" : "") + (volatileMemory ? " volatile=true" : "");
    }
}
