package org.dmstack.shell.dd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.shell.Devices;

/** What an if= or of= name opens: a special file, a block device or an ordinary file. */
final class Endpoints {
    private final BlockDeviceRegistry registry;
    private final Path cwd;

    /** @param cwd the folder relative file names are resolved against */
    Endpoints(BlockDeviceRegistry registry, Path cwd) {
        this.registry = registry;
        this.cwd = cwd;
    }

    Source source(String name, Arena arena) throws DdError {
        switch (name) {
            case "/dev/zero" -> {
                return new ZeroSource();
            }
            case "/dev/urandom", "/dev/random" -> {
                return new RandomSource();
            }
            default -> {}
        }
        BlockDevice device = device(name);
        if (device != null) return open(name, device, arena);
        try {
            return FileSource.open(cwd.resolve(name));
        } catch (IOException e) {
            throw new DdError("dd: failed to open '" + name + "': " + reason(e));
        }
    }

    /** @param truncateTo for files: the size to cut the file to first, or -1 (conv=notrunc) */
    Sink sink(String name, Arena arena, long truncateTo) throws DdError {
        switch (name) {
            case "/dev/null" -> {
                return new NullSink();
            }
            case "/dev/zero", "/dev/urandom", "/dev/random" -> throw new DdError("dd: failed to open '" + name + "': Permission denied");
            default -> {}
        }
        BlockDevice device = device(name);
        if (device != null) return open(name, device, arena);
        if (name.startsWith("/dev/")) throw new DdError("dd: failed to open '" + name + "': No such file or directory");
        try {
            return FileSink.open(cwd.resolve(name), truncateTo);
        } catch (IOException e) {
            throw new DdError("dd: failed to open '" + name + "': " + reason(e));
        }
    }

    /** open(2) of a block device: dd holds it open (one of its openers) until it closes it. */
    private DeviceFile open(String name, BlockDevice device, Arena arena) throws DdError {
        try {
            return new DeviceFile(new DeviceIo(device, arena), registry.open(device, "dd"));
        } catch (IllegalStateException gone) {
            throw new DdError("dd: failed to open '" + name + "': No such device or address");
        }
    }

    private BlockDevice device(String name) {
        return name.startsWith("/dev/") ? Devices.find(registry, name) : null;
    }

    /** An I/O exception in the C library's words (strerror), as dd prints them. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) return "No such file or directory";
        if (e instanceof AccessDeniedException) return "Permission denied";
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
