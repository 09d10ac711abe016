package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;

/**
 * Updating the core bundle takes device-mapper, and with it every mapped device, away: when it
 * returns, the config folder applies every table file again, and I/O works on them; data on a
 * file-backed pmem device under a table is still there.
 */
class CoreUpdateIT {
    @TempDir Path dir;

    @Test
    void afterACoreUpdateEveryTableOfTheFolderIsBackAndIoResumes() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("brd.cfg"), "rd_nr = 2\nrd_size = 1024\n");
        Files.writeString(config.resolve("pmem-a.cfg"), "path = " + dir.resolve("pmem0.img") + "\nsize = 4M\ncreate = true\nname = pmem0\n");
        Files.writeString(config.resolve("lin.table"), "0 2048 linear pmem0 0\n");
        Files.writeString(config.resolve("str.table"), "0 2048 striped 2 8 ram0 0 ram1 0\n");
        byte[] data = new byte[64 * 1024];
        new Random(18).nextBytes(data);
        Files.write(dir.resolve("data.bin"), data);
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.bundle("org.dmstack.dm.stripe").start();
            s.awaitOutput("dmsetup table lin", "0 2048 linear 259:0 0\n");
            s.awaitOutput("dmsetup table str", "0 2048 striped 2 8 1:0 0 1:1 0\n");
            s.run("dd if=" + dir.resolve("data.bin") + " of=/dev/mapper/lin bs=4096 status=none; dd if=" + dir.resolve("data.bin") + " of=/dev/mapper/str bs=4096 status=none");

            Bundle core = s.bundle("org.dmstack.core");
            s.update(core, Path.of(java.net.URI.create(core.getLocation())));

            // Back with their tables (their minor numbers are given anew, in the order they return).
            s.awaitOutput("dmsetup table lin", "0 2048 linear 259:0 0\n");
            s.awaitOutput("dmsetup table str", "0 2048 striped 2 8 1:0 0 1:1 0\n");
            s.run("dd if=/dev/mapper/lin of=" + dir.resolve("lin.bin") + " bs=4096 count=16 status=none");
            assertArrayEquals(data, Files.readAllBytes(dir.resolve("lin.bin")), "the data on pmem0, read through lin");
            s.run("dd if=" + dir.resolve("data.bin") + " of=/dev/mapper/str bs=4096 status=none; dd if=/dev/mapper/str of=" + dir.resolve("str.bin")
                    + " bs=4096 count=16 status=none");
            assertArrayEquals(data, Files.readAllBytes(dir.resolve("str.bin")), "I/O through str after the update");
            s.awaitTableState("lin", "active");
            s.awaitTableState("str", "active");

            // The folder is followed as before: an edit reloads the device.
            s.write("str.table", "0 1024 striped 2 8 ram0 0 ram1 0\n");
            s.awaitOutput("dmsetup table str", "0 1024 striped 2 8 1:0 0 1:1 0\n");
        }
    }
}
