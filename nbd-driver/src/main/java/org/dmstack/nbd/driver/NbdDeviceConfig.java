package org.dmstack.nbd.driver;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * One imported export: where it is, the device it becomes, how many connections to open and how
 * long I/O waits for a lost server.
 *
 * @param name the device name {@code nbdN}, or null for the lowest free one
 * @param uri the export
 * @param connections how many connections to open when the server allows several (NBD's
 *     CAN_MULTI_CONN); one otherwise
 * @param timeout how long a bio waits for the server to come back before it fails with EIO
 */
public record NbdDeviceConfig(String name, NbdUri uri, int connections, Duration timeout) {
    /** nbd-client's default: one connection. */
    public static final int DEFAULT_CONNECTIONS = 1;
    /** More connections than this buy nothing and cost a thread pair each. */
    public static final int MAX_CONNECTIONS = 64;
    /** As long as dm and the NBD export hold I/O for a device that went away. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    public NbdDeviceConfig {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(timeout, "timeout");
        if (name != null && NbdDriver.indexOf(name) < 0) {
            throw new IllegalArgumentException("nbd: name must be nbdN (nbd0, nbd1, ...), not '" + name + "'");
        }
        if (connections < 1 || connections > MAX_CONNECTIONS) {
            throw new IllegalArgumentException("nbd: connections must be between 1 and " + MAX_CONNECTIONS + ", not " + connections);
        }
        if (timeout.isNegative()) throw new IllegalArgumentException("nbd: timeout must not be negative, not " + timeout);
    }

    /** An export with the defaults: the next free name, one connection, 60 s. */
    public static NbdDeviceConfig of(String uri) {
        return new NbdDeviceConfig(null, NbdUri.parse(uri), DEFAULT_CONNECTIONS, DEFAULT_TIMEOUT);
    }

    public NbdDeviceConfig withName(String newName) {
        return new NbdDeviceConfig(newName, uri, connections, timeout);
    }

    public NbdDeviceConfig withConnections(int n) {
        return new NbdDeviceConfig(name, uri, n, timeout);
    }

    public NbdDeviceConfig withTimeout(Duration t) {
        return new NbdDeviceConfig(name, uri, connections, t);
    }

    /**
     * Reads {@code uri} (required), {@code name}, {@code connections} and {@code timeout} (seconds,
     * or with a unit: {@code 500ms}, {@code 30s}, {@code 2m}) from configuration properties.
     *
     * @throws IllegalArgumentException naming the property and the value when one is invalid
     */
    public static NbdDeviceConfig from(Map<String, ?> properties) {
        Object uri = properties.get("uri");
        if (uri == null || uri.toString().isBlank()) {
            throw new IllegalArgumentException("nbd: uri is missing (uri = nbd://host:port/export or nbd+unix:///export?socket=PATH)");
        }
        Object name = properties.get("name");
        Object connections = properties.get("connections");
        Object timeout = properties.get("timeout");
        int n = DEFAULT_CONNECTIONS;
        if (connections != null) {
            try {
                n = connections instanceof Number num ? Math.toIntExact(num.longValue()) : Integer.parseInt(connections.toString().strip());
            } catch (NumberFormatException | ArithmeticException e) {
                throw new IllegalArgumentException("nbd: connections must be a whole number, not '" + connections + "'");
            }
        }
        Duration t = timeout == null ? DEFAULT_TIMEOUT : parseTimeout(timeout);
        String deviceName = name == null || name.toString().isBlank() ? null : name.toString().strip();
        return new NbdDeviceConfig(deviceName, NbdUri.parse(uri.toString()), n, t);
    }

    static Duration parseTimeout(Object value) {
        if (value instanceof Number num) return Duration.ofSeconds(num.longValue());
        String text = value.toString().strip();
        int unit = 0;
        while (unit < text.length() && Character.isDigit(text.charAt(unit))) unit++;
        try {
            long amount = Long.parseLong(text.substring(0, unit));
            switch (text.substring(unit).strip()) {
                case "", "s" -> { return Duration.ofSeconds(amount); }
                case "ms" -> { return Duration.ofMillis(amount); }
                case "m" -> { return Duration.ofMinutes(amount); }
                default -> { }
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        throw new IllegalArgumentException("nbd: timeout must be a number of seconds or a duration like 500ms, 30s or 2m, not '" + text + "'");
    }

    /** The configuration as properties, the way it would be written back. */
    @Override
    public String toString() {
        return (name == null ? "" : "name=" + name + " ") + "uri=" + uri + " connections=" + connections + " timeout=" + timeout.toMillis() + "ms";
    }
}
