package org.dmstack.shell.internal;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.shell.ReplayLogCommand;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code replay-log} in Gogo. A command name with a hyphen cannot be a method name, so the
 * command is Gogo's {@code _main}, which Gogo calls for any function this service names, with the
 * command's name first. Present when the dm-log-writes bundle is (the import is optional).
 */
@Component(service = ReplayLogGogo.class, property = {"osgi.command.scope=dmstack", "osgi.command.function=replay-log"})
public final class ReplayLogGogo {
    private final BlockDeviceRegistry registry;

    @Activate
    public ReplayLogGogo(@Reference BlockDeviceRegistry registry) {
        this.registry = registry;
    }

    public void _main(String... argv) {
        List<String> args = Arrays.asList(argv).subList(Math.min(1, argv.length), argv.length);
        new ReplayLogCommand(registry, Path.of(System.getProperty("user.dir"))).run(args, System.out);
    }
}
