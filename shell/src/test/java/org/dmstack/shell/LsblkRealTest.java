package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.dm.DmException;
import org.dmstack.shell.lsblk.Lsblk;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our lsblk against util-linux's (the Debian package util-linux, 2.38.1 here) on the same devices:
 * their attributes are written out as a sysfs tree (/sys/block, /sys/dev/block, holders/ and
 * slaves/ links, as Linux lays them out) that the real lsblk reads with {@code --sysroot}; both
 * must print the same bytes. Skipped where there is no lsblk with --sysroot. Devices named on
 * the command line are not compared: the real lsblk finds them by stat(2) on /dev, not in the
 * sysroot.
 */
class LsblkRealTest {
    private static final Path LSBLK = Path.of("/usr/bin/lsblk");

    @TempDir Path root;
    private Stack stack;

    @BeforeEach
    void setUp() throws DmException {
        stack = new Stack();
        stack.ram(0, 16 << 20);
        stack.ram(1, 16 << 20);
        stack.ram(2, 4 << 20);
        stack.dm.create("lv0", "LVM-abc", "0 8192 linear ram1 0\n8192 8192 linear ram0 0");
        stack.dm.create("top", "0 3072 linear lv0 0");
        stack.dm.create("z", "0 1 zero");
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    @Test
    void sameBytesAsUtilLinux() throws Exception {
        assumeTrue(Files.isExecutable(LSBLK), "no " + LSBLK + " (Debian: apt-get install util-linux)");
        writeSysfs();
        for (String options : List.of("", "-a", "-a -l", "-a -r", "-a -P", "-a -J", "-a -b", "-a -n", "-a -d", "-a -t",
                "-a -D", "-a -b -D", "-a -J -t", "-a -J -l -b -o NAME,SIZE,DAX,PKNAME", "-a -p -o NAME,KNAME,PKNAME,PATH",
                "-a -o NAME,TYPE,RO,RM,LOG-SEC,PHY-SEC,MIN-IO,OPT-IO,DAX", "-a -o +PKNAME -l", "-e 7", "-I 1,254", "-a -t -o +SIZE",
                "-a -r -n -o NAME,MAJ:MIN")) {
            List<String> args = options.isEmpty() ? List.of() : List.of(options.split(" "));
            String ours = Stack.capture((out, err) -> new Lsblk(stack.registry).run(args, out));
            assertEquals(real(args), ours, "lsblk " + options);
        }
    }

    private String real(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(LSBLK.toString(), "--sysroot", root.toString()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    /** /sys/devices/virtual/block/NAME with every attribute, linked from /sys/block and /sys/dev/block. */
    private void writeSysfs() throws IOException {
        Path devices = Files.createDirectories(root.resolve("sys/devices/virtual/block"));
        Path block = Files.createDirectories(root.resolve("sys/block"));
        Path devBlock = Files.createDirectories(root.resolve("sys/dev/block"));
        for (BlockDevice d : stack.registry.devices()) {
            Path dir = devices.resolve(d.name());
            Files.createDirectories(dir.resolve("holders"));
            Files.createDirectories(dir.resolve("slaves"));
            for (String a : d.attributes().paths()) {
                Path file = dir.resolve(a);
                Files.createDirectories(file.getParent());
                Files.writeString(file, d.attributes().read(a) + "\n");
            }
            Files.createSymbolicLink(block.resolve(d.name()), Path.of("../devices/virtual/block", d.name()));
            Files.createSymbolicLink(devBlock.resolve(d.devt().toString()), Path.of("../../devices/virtual/block", d.name()));
        }
        for (BlockDevice d : stack.registry.devices()) {
            for (DevT holder : stack.registry.holders(d.devt())) {
                String h = stack.registry.lookup(holder.toString()).name();
                Files.createSymbolicLink(devices.resolve(d.name()).resolve("holders").resolve(h), Path.of("../..", h));
                Files.createSymbolicLink(devices.resolve(h).resolve("slaves").resolve(d.name()), Path.of("../..", d.name()));
            }
        }
    }
}
