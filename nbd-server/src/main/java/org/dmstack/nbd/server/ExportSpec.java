package org.dmstack.nbd.server;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.dmstack.nbd.protocol.Nbd;

/**
 * One configured export: the name clients ask for, the device it serves (a name such as
 * "ram0", "/dev/dm-0", or a number "1:0") and whether clients may write.
 *
 * <p>Written as {@code name=device[:ro]}; {@code device[:ro]} alone exports the device under its
 * own name. Examples: {@code disk=ram0}, {@code golden=pmem0:ro}, {@code old=1:0:ro}, {@code dm-0}.
 */
public record ExportSpec(String name, String device, boolean readOnly) {
    public ExportSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
        checkName(name);
        if (device.isBlank()) throw new IllegalArgumentException("Export '" + name + "' names no device");
    }

    /**
     * Parses {@code name=device[:ro]} or {@code device[:ro]}; {@code :rw} is accepted for
     * read-write, which is the default.
     *
     * @throws IllegalArgumentException with a sentence naming the text when it is not of that form
     */
    public static ExportSpec parse(String text) {
        String s = text.strip();
        if (s.isEmpty()) throw new IllegalArgumentException("Empty export; expected name=device[:ro]");
        int eq = s.indexOf('=');
        String name = eq < 0 ? null : s.substring(0, eq).strip();
        String device = (eq < 0 ? s : s.substring(eq + 1)).strip();
        boolean readOnly = false;
        if (device.endsWith(":ro")) {
            readOnly = true;
            device = device.substring(0, device.length() - 3);
        } else if (device.endsWith(":rw")) {
            device = device.substring(0, device.length() - 3);
        }
        if (device.isEmpty()) throw new IllegalArgumentException("Invalid export '" + text + "': no device; expected name=device[:ro]");
        if (name == null) name = device.startsWith("/dev/") ? device.substring(5) : device;
        if (name.isEmpty()) throw new IllegalArgumentException("Invalid export '" + text + "': empty name; expected name=device[:ro]");
        try {
            return new ExportSpec(name, device, readOnly);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid export '" + text + "': " + e.getMessage(), e);
        }
    }

    /** Export names are NBD strings: no NUL, at most 4096 bytes of UTF-8. */
    static void checkName(String name) {
        if (name.indexOf('\0') >= 0) throw new IllegalArgumentException("export name contains NUL");
        if (name.getBytes(StandardCharsets.UTF_8).length > Nbd.MAX_STRING) {
            throw new IllegalArgumentException("export name is longer than " + Nbd.MAX_STRING + " bytes");
        }
    }

    /** The configuration form, {@code name=device[:ro]}, that {@link #parse} reads back. */
    @Override
    public String toString() {
        return name + "=" + device + (readOnly ? ":ro" : "");
    }
}
