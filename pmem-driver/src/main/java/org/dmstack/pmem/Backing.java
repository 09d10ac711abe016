package org.dmstack.pmem;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import org.dmstack.memory.MappingPool;
import org.dmstack.units.Units;
import org.dmstack.memory.Poison;

/**
 * The memory under a pmem device: a file mapped whole as one 64-bit segment (synchronous mapping
 * where the file system supports it), or anonymous memory. Opening checks everything first and
 * changes nothing on a failure: a file it created is deleted again, a file it grew is cut back.
 * A file mapping can be handed over to a {@link MappingPool} instead of unmapped, and taken back
 * from it by the next device over the same file and size.
 */
final class Backing {
    /** Files in use by a device in this JVM, by identity (inode where the system has one, else real path). */
    private static final Map<Object, String> IN_USE = new ConcurrentHashMap<>();

    private final Arena arena;
    private final MemorySegment memory;
    private final Path file;
    private final boolean synchronous;
    private final Object key;
    private final AtomicLongArray unforced;

    private Backing(Arena arena, MemorySegment memory, Path file, boolean synchronous, Object key, AtomicLongArray unforced) {
        this.arena = arena;
        this.memory = memory;
        this.file = file;
        this.synchronous = synchronous;
        this.key = key;
        this.unforced = unforced;
    }

    /** Anonymous memory of {@code size} bytes, zeroed (and so committed) up front. */
    static Backing anonymous(long size) {
        Arena arena = Arena.ofShared();
        try {
            return new Backing(arena, arena.allocate(size, Units.PAGE_SIZE), null, false, null, null);
        } catch (OutOfMemoryError e) {
            arena.close();
            throw new IllegalArgumentException("pmem: cannot allocate " + Units.humanSize(size) + " of anonymous memory", e);
        }
    }

    /**
     * Maps {@code size} bytes of {@code file} for the device {@code device}, or takes back the
     * mapping of that file and size that an earlier device left in {@code pool} (may be null).
     *
     * @throws IllegalArgumentException when the file cannot back the device, saying why
     * @throws IllegalStateException when another device already uses the file
     */
    static Backing map(String device, Path file, long size, boolean create, MappingPool pool) {
        Path path = file.toAbsolutePath().normalize();
        if (Files.isDirectory(path)) throw new IllegalArgumentException("pmem: " + path + ": Is a directory");
        boolean exists = Files.exists(path);
        long oldLength;
        if (exists) {
            if (!Files.isRegularFile(path)) throw new IllegalArgumentException("pmem: " + path + ": not a regular file");
            if (!Files.isReadable(path) || !Files.isWritable(path)) {
                throw new IllegalArgumentException("pmem: " + path + ": Permission denied (the file must be readable and writable)");
            }
            try {
                oldLength = Files.size(path);
            } catch (IOException e) {
                throw new IllegalArgumentException("pmem: " + path + ": " + reason(e), e);
            }
            if (oldLength < size && !create) {
                throw new IllegalArgumentException("pmem: " + path + " is " + oldLength + " bytes, smaller than the region size " + size
                        + " (" + Units.humanSize(size) + "); set create=true to grow it");
            }
        } else {
            if (!create) throw new IllegalArgumentException("pmem: " + path + ": No such file or directory (set create=true to create it)");
            Path parent = path.getParent();
            if (parent == null || !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("pmem: " + path + ": the directory " + parent + " does not exist");
            }
            oldLength = -1;
        }
        Object key = exists ? identity(path) : null;
        if (key != null && IN_USE.putIfAbsent(key, device) != null) {
            throw new IllegalStateException("pmem: " + path + " is already used by " + IN_USE.get(key));
        }
        MappingPool.Mapping kept = key == null || pool == null ? null : pool.take(key);
        if (kept != null) {
            if (kept.memory().byteSize() == size) return new Backing(kept.arena(), kept.memory(), path, kept.synchronous(), key, kept.unforced());
            kept.unmap(); // another size: mapped again below
        }
        boolean created = false;
        Arena arena = null;
        try {
            FileChannel channel;
            try {
                channel = exists
                        ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)
                        : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
            } catch (IOException e) {
                throw new IllegalArgumentException("pmem: " + path + ": " + reason(e), e);
            }
            created = !exists;
            try (channel) {
                if (created) {
                    key = identity(path);
                    if (IN_USE.putIfAbsent(key, device) != null) {
                        throw new IllegalStateException("pmem: " + path + " is already used by " + IN_USE.get(key));
                    }
                }
                if (channel.size() < size) channel.write(ByteBuffer.wrap(new byte[1]), size - 1); // sparse: past the old end
                arena = Arena.ofShared();
                MemorySegment memory;
                boolean synchronous = true;
                MapMode sync = syncMode();
                try {
                    if (sync == null) throw new UnsupportedOperationException("no MAP_SYNC");
                    memory = channel.map(sync, 0, size, arena);
                } catch (UnsupportedOperationException | IOException e) {
                    // Not a DAX file system (or no MAP_SYNC): a plain shared mapping, made durable by force().
                    synchronous = false;
                    memory = channel.map(MapMode.READ_WRITE, 0, size, arena);
                }
                return new Backing(arena, memory, path, synchronous, key, null);
            }
        } catch (IOException | RuntimeException | Error e) {
            if (arena != null) arena.close();
            undo(path, created, oldLength, size);
            if (key != null) IN_USE.remove(key, device);
            if (e instanceof IOException io) throw new UncheckedIOException("pmem: " + path + ": " + reason(io), io);
            if (e instanceof RuntimeException r) throw r;
            throw (Error) e;
        }
    }

    /** Puts the file back as it was: deletes it if we created it, cuts it back if we grew it. */
    private static void undo(Path path, boolean created, long oldLength, long size) {
        try {
            if (created) {
                Files.deleteIfExists(path);
            } else if (oldLength >= 0 && oldLength < size) {
                try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                    ch.truncate(oldLength);
                }
            }
        } catch (IOException ignored) {
            // Best effort: the original failure is what the user needs to see.
        }
    }

    private static Object identity(Path path) {
        try {
            Object inode = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            return inode != null ? inode : path.toRealPath();
        } catch (IOException e) {
            return path;
        }
    }

    /** jdk.nio.mapmode.ExtendedMapMode.READ_WRITE_SYNC, looked up so the bundle needs no import of jdk.* packages. */
    private static MapMode syncMode() {
        try {
            Class<?> c = Class.forName("jdk.nio.mapmode.ExtendedMapMode", true, ClassLoader.getPlatformClassLoader());
            return (MapMode) c.getField("READ_WRITE_SYNC").get(null);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof AccessDeniedException) return "Permission denied";
        return Objects.requireNonNullElse(e.getMessage(), e.getClass().getSimpleName());
    }

    MemorySegment memory() {
        return memory;
    }

    /** The backing file, or null for anonymous memory. */
    Path file() {
        return file;
    }

    /** True when the file was mapped with MAP_SYNC. */
    boolean synchronous() {
        return synchronous;
    }

    /** What an earlier device over this mapping wrote and did not force, or null. */
    AtomicLongArray unforced() {
        return unforced;
    }

    /**
     * Unmaps (or frees) the memory and forgets its poison; the file keeps what was written. With
     * a pool, a file mapping is left there instead, with {@code unforced}, for the next device.
     */
    void close(MappingPool pool, AtomicLongArray unforced) {
        Poison.clearAll(memory);
        if (key != null) IN_USE.remove(key);
        if (pool != null && key != null) pool.put(key, new MappingPool.Mapping(memory, arena, synchronous, unforced));
        else arena.close();
    }
}
