package org.dmstack.shell.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.felix.service.command.Descriptor;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.shell.Blockdev;
import org.dmstack.shell.Dmsetup;
import org.dmstack.shell.Iostat;
import org.dmstack.shell.Sysfs;
import org.dmstack.shell.dd.Dd;
import org.dmstack.shell.lsblk.Lsblk;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The commands as Gogo sees them (scope {@code dmstack}). Each prints to System.out and
 * System.err, which Gogo points at the session running it, and throws the command's
 * {@link org.dmstack.shell.CommandException} when it fails, so the shell reports the failure
 * (once: the command itself prints nothing of it). {@code help NAME} shows the descriptions;
 * {@code NAME --help} the usage.
 */
@Component(service = GogoCommands.class, property = {
    "osgi.command.scope=dmstack",
    "osgi.command.function=dmsetup",
    "osgi.command.function=lsblk",
    "osgi.command.function=sysfs",
    "osgi.command.function=dd",
    "osgi.command.function=iostat",
    "osgi.command.function=blockdev"
})
public final class GogoCommands {
    private static final String ARGS = "the command's arguments, as the Linux tool takes them (--help for the usage)";

    private final BlockDeviceRegistry registry;
    private final DeviceMapper dm;
    // For sysfs's /sys/bus/nd/devices: the NVDIMM platforms, as they come and go.
    private final List<NfitPlatform> platforms = new CopyOnWriteArrayList<>();

    @Activate
    public GogoCommands(@Reference BlockDeviceRegistry registry, @Reference DeviceMapper dm) {
        this.registry = registry;
        this.dm = dm;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPlatform(NfitPlatform platform) {
        platforms.add(platform);
    }

    void removePlatform(NfitPlatform platform) {
        platforms.remove(platform);
    }

    private static Path cwd() {
        return Path.of(System.getProperty("user.dir"));
    }

    @Descriptor("device-mapper: create, load, suspend, resume, remove, rename, message; ls [--tree], info [-c], deps, status, table, targets")
    public void dmsetup(@Descriptor(ARGS) String... args) {
        new Dmsetup(dm, cwd()).run(List.of(args), System.out);
    }

    @Descriptor("list block devices as a tree (-l list, -J JSON, -o columns, -n no headings, -b bytes)")
    public void lsblk(@Descriptor(ARGS) String... args) {
        new Lsblk(registry).run(List.of(args), System.out);
    }

    @Descriptor("read or write a device attribute by its /sys/block or /sys/bus/nd/devices path")
    public void sysfs(@Descriptor(ARGS) String... args) {
        new Sysfs(registry, () -> List.copyOf(platforms)).run(List.of(args), System.out);
    }

    @Descriptor("copy between devices, files, /dev/zero, /dev/urandom and /dev/null with GNU dd's operands")
    public void dd(@Descriptor(ARGS) String... args) {
        new Dd(registry, cwd()).run(List.of(args), System.out, System.err);
    }

    @Descriptor("I/O statistics of the devices (and the CPU) as sysstat's iostat prints them: -d, -c, -x, interval and count")
    public void iostat(@Descriptor(ARGS) String... args) {
        new Iostat(registry).run(List.of(args), System.out);
    }

    @Descriptor("block device ioctls as util-linux's blockdev calls them: --getsize64, --getss, --setro, --setra, --report, ...")
    public void blockdev(@Descriptor(ARGS) String... args) {
        new Blockdev(registry).run(List.of(args), System.out, System.err);
    }
}
