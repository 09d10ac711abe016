package org.dmstack.launcher;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;

/** What the interactive shell says first: what this is, what runs, and how to go on. */
final class Greeting {
    private Greeting() {}

    static String text(String version, Dmstack stack, Path socket) {
        List<String> devices = stack.devices();
        InetSocketAddress nbd = stack.nbdAddress();
        StringBuilder b = new StringBuilder();
        b.append("dmstack ").append(version).append(" - the Linux device-mapper and DAX block stack on the JVM\n");
        b.append("devices: ").append(devices.isEmpty() ? "none yet" : String.join(", ", devices)).append('\n');
        b.append("NBD:     ").append(nbd == null ? "not serving" : "nbd://" + nbd.getHostString() + ":" + nbd.getPort()).append('\n');
        b.append("control: dmstack ctl --socket ").append(socket).append(" -c 'COMMANDS'\n");
        b.append("Type 'help' for the commands, 'help dmsetup' for one; Tab completes; 'exit 0' or Ctrl-D stops dmstack.\n");
        return b.toString();
    }
}
