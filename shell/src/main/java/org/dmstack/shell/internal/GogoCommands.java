package org.dmstack.shell.internal;

import java.nio.file.Path;
import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.shell.Dd;
import org.dmstack.shell.Dmsetup;
import org.dmstack.shell.Iostat;
import org.dmstack.shell.Lsblk;
import org.dmstack.shell.Sysfs;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * The commands as Gogo sees them (scope {@code dmstack}). Each prints to System.out and
 * System.err, which Gogo points at the session running it, and throws the command's
 * {@link org.dmstack.shell.CommandException} when it fails, so the shell reports the failure.
 */
@Component(service = GogoCommands.class, property = {
    "osgi.command.scope=dmstack",
    "osgi.command.function=dmsetup",
    "osgi.command.function=lsblk",
    "osgi.command.function=sysfs",
    "osgi.command.function=dd",
    "osgi.command.function=iostat"
})
public final class GogoCommands {
    private final BlockDeviceRegistry registry;
    private final DeviceMapper dm;

    @Activate
    public GogoCommands(@Reference BlockDeviceRegistry registry, @Reference DeviceMapper dm) {
        this.registry = registry;
        this.dm = dm;
    }

    private static Path cwd() {
        return Path.of(System.getProperty("user.dir"));
    }

    public void dmsetup(String... args) {
        new Dmsetup(dm, cwd()).run(List.of(args), System.out);
    }

    public void lsblk(String... args) {
        new Lsblk(registry).run(List.of(args), System.out);
    }

    public void sysfs(String... args) {
        new Sysfs(registry).run(List.of(args), System.out);
    }

    public void dd(String... args) {
        new Dd(registry, cwd()).run(List.of(args), System.out, System.err);
    }

    public void iostat(String... args) {
        new Iostat(registry).run(List.of(args), System.out);
    }
}
