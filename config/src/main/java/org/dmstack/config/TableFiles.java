package org.dmstack.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mapped devices declared by files: {@code NAME.table} holds a dmsetup table and stands for the
 * mapped device NAME.
 *
 * <ul>
 *   <li>A new file creates the device. A table that names a device or target type that does not
 *       exist yet is <em>pending</em>: nothing is created, and it is tried again whenever
 *       {@link #retry()} is called (when devices or target types appear).
 *   <li>An edited file reloads the device live: load into the inactive slot, suspend (in-flight
 *       I/O completes, new I/O waits), resume. A table the kernel would refuse is rejected with
 *       its error in the log and the old table stays active.
 *   <li>A deleted file removes the device, unless another table uses it: then the removal is
 *       refused with a message and tried again after other removals.
 * </ul>
 *
 * A mapped device of the file's name that already exists (made with dmsetup, or before the
 * config bundle restarted) is taken over: the file's table is loaded into it.
 */
public final class TableFiles {
    private static final Logger LOG = LoggerFactory.getLogger(TableFiles.class);
    public static final String SUFFIX = ".table";

    /** Where a file's device stands. */
    public enum State {
        /** The device exists with this file's table. */
        ACTIVE,
        /** Waiting for a device or target type the table names. */
        PENDING,
        /** The table was refused; a device created earlier keeps its old table. */
        REJECTED,
        /** The file is gone but the device is still used by another table. */
        REMOVING
    }

    /** A file's state and, unless active, why. */
    public record Status(State state, String reason) {
        @Override
        public String toString() {
            return reason.isEmpty() ? state.name().toLowerCase() : state.name().toLowerCase() + ": " + reason;
        }
    }

    private static final class Entry {
        final Path file;
        final String name;
        String text;
        /** The file as last read: its text, or NUL and why it could not be read. */
        String read;
        boolean created;
        Status status = new Status(State.PENDING, "not applied yet");

        Entry(Path file, String name) {
            this.file = file;
            this.name = name;
        }
    }

    private final DeviceMapper dm;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

    public TableFiles(DeviceMapper dm) {
        this.dm = dm;
    }

    public static boolean handles(Path file) {
        String n = file.getFileName().toString();
        return n.endsWith(SUFFIX) && n.length() > SUFFIX.length() && !n.startsWith(".");
    }

    /** The device a table file stands for: its name without ".table". */
    public static String deviceName(Path file) {
        String n = file.getFileName().toString();
        return n.substring(0, n.length() - SUFFIX.length());
    }

    /** Called after every change of state (the runtime republishes its status). */
    public void onChange(Runnable listener) {
        changeListeners.add(listener);
    }

    /** A new table file. */
    public void install(Path file) {
        String text = null;
        String unreadable = null;
        try {
            text = read(file);
        } catch (IOException ex) {
            unreadable = readError(ex);
        }
        synchronized (this) {
            String name = deviceName(file);
            Entry e = entries.get(name);
            if (e == null || e.status.state() == State.REMOVING && !e.file.equals(file)) {
                e = new Entry(file, name);
                entries.put(name, e);
            }
            String read = unreadable != null ? "\0" + unreadable : text;
            boolean unchanged = read.equals(e.read) && (e.status.state() == State.ACTIVE && exists(name) || e.status.state() == State.REJECTED);
            e.read = read;
            if (unchanged) {
                // Seen again as it was (the folder adopted after a restart, then FileInstall): nothing to do.
                return;
            } else if (unreadable != null) {
                String consequence = e.created && exists(name) ? "the old table stays active" : "not created";
                e.status = new Status(State.REJECTED, "cannot be read: " + unreadable + " (" + consequence + ")");
                LOG.error("device-mapper: {}: {} cannot be read: {} ({})", name, file.getFileName(), unreadable, consequence);
            } else {
                e.text = text;
                apply(e);
            }
            retryLocked();
        }
        changed();
    }

    /** An edited table file. */
    public void update(Path file) {
        install(file);
    }

    /**
     * A table file's text: UTF-8 with no control characters but tabs and line ends, so that a
     * binary file is refused as such rather than parsed as a table of nonsense.
     */
    static String read(Path file) throws IOException {
        String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
                throw new IOException(String.format("binary data, not a table (control character 0x%02x at character %d)", (int) c, i));
            }
        }
        return text;
    }

    /** What a user should read when a config file could not be read. */
    public static String readError(IOException e) {
        if (e instanceof CharacterCodingException) return "binary data, not a table (not UTF-8 text)";
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof AccessDeniedException) return "Permission denied";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** A deleted table file. */
    public void uninstall(Path file) {
        synchronized (this) {
            Entry e = entries.get(deviceName(file));
            if (e == null) return;
            if (!e.created || !exists(e.name)) {
                entries.remove(e.name);
                LOG.info("{}: {} deleted; no device to remove", e.name, file.getFileName());
            } else {
                e.status = new Status(State.REMOVING, "file deleted");
                tryRemove(e);
            }
            retryLocked();
        }
        changed();
    }

    /** Tries pending tables and refused removals again (something appeared or went away). */
    public void retry() {
        boolean any;
        synchronized (this) {
            any = retryLocked();
        }
        if (any) changed();
    }

    /** Each file's device name and state, in the order the files came. */
    public synchronized Map<String, Status> states() {
        Map<String, Status> m = new LinkedHashMap<>();
        for (Entry e : entries.values()) m.put(e.name, e.status);
        return m;
    }

    /** The tables still waiting, with what they wait for. */
    public synchronized Map<String, String> pending() {
        Map<String, String> m = new TreeMap<>();
        for (Entry e : entries.values()) if (e.status.state() == State.PENDING) m.put(e.name, e.status.reason());
        return m;
    }

    /** The files this class has seen and not yet forgotten. */
    public synchronized List<Path> files() {
        List<Path> l = new ArrayList<>();
        for (Entry e : entries.values()) if (e.status.state() != State.REMOVING) l.add(e.file);
        return l;
    }

    private boolean retryLocked() {
        boolean changed = false;
        for (boolean progress = true; progress;) {
            progress = false;
            for (Entry e : new ArrayList<>(entries.values())) {
                Status before = e.status;
                if (before.state() == State.PENDING) apply(e);
                else if (before.state() == State.REMOVING) tryRemove(e);
                else continue;
                if (e.status.state() != before.state() || !entries.containsKey(e.name)) progress = true;
                if (!e.status.equals(before) || !entries.containsKey(e.name)) changed = true;
            }
        }
        return changed;
    }

    private void apply(Entry e) {
        if (!exists(e.name)) {
            e.created = false;
            try {
                dm.create(e.name, e.text);
                e.created = true;
                e.status = new Status(State.ACTIVE, "");
                LOG.info("{}: created from {}", e.name, e.file.getFileName());
            } catch (DmException ex) {
                failed(e, ex, "not created");
            }
            return;
        }
        try {
            dm.load(e.name, e.text);
        } catch (DmException ex) {
            failed(e, ex, "the old table stays active");
            return;
        }
        dm.suspend(e.name);
        try {
            dm.resume(e.name);
        } catch (DmException ex) {
            // As in Linux, a later table's device areas are checked when it is resumed; the failed
            // resume dropped it and left the device suspended on the old table, which goes on.
            dm.resume(e.name);
            failed(e, ex, "the old table stays active");
            return;
        }
        e.created = true;
        e.status = new Status(State.ACTIVE, "");
        LOG.info("{}: reloaded from {}", e.name, e.file.getFileName());
    }

    private void failed(Entry e, DmException ex, String consequence) {
        String why = ex.getMessage();
        if (isMissing(why)) {
            boolean first = e.status.state() != State.PENDING || !e.status.reason().equals(why);
            e.status = new Status(State.PENDING, why);
            if (first) LOG.info("{}: {} is pending ({}): {}", e.name, e.file.getFileName(), consequence, why);
        } else {
            reject(e, why + " (" + consequence + ")");
        }
    }

    private void reject(Entry e, String why) {
        e.status = new Status(State.REJECTED, why);
        LOG.error("device-mapper: {}: table from {} rejected: {}", e.name, e.file.getFileName(), why);
    }

    private void tryRemove(Entry e) {
        if (!exists(e.name)) {
            entries.remove(e.name);
            return;
        }
        try {
            dm.remove(e.name);
            entries.remove(e.name);
            LOG.info("{}: removed ({} deleted)", e.name, e.file.getFileName());
        } catch (DmException ex) {
            boolean first = !e.status.reason().equals(ex.getMessage());
            e.status = new Status(State.REMOVING, ex.getMessage());
            if (first) LOG.error("device-mapper: {}: {} was deleted but the device stays: {}", e.name, e.file.getFileName(), ex.getMessage());
        }
    }

    /** The errors that mean "not there yet" rather than "wrong". */
    static boolean isMissing(String message) {
        return message != null && (message.endsWith(": unknown target type") || message.endsWith(": No such device"));
    }

    private boolean exists(String name) {
        try {
            dm.get(name);
            return true;
        } catch (DmException e) {
            return false;
        }
    }

    private void changed() {
        for (Runnable r : changeListeners) r.run();
    }
}
