package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.dmstack.launcher.Dmstack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An emulated NFIT platform from the config folder: pmem devices over its regions, ndctl, poison. */
class NdctlIT {
    @TempDir Path dir;

    @Test
    void platformRegionsNamespacesAndInjectedErrors() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("nfit-lab.cfg"), "nvdimms = [pmem:8M:" + dir.resolve("nv0.img") + ", volatile:4M]\npersistence = mem-ctrl\n");
        Files.writeString(config.resolve("data.table"), "0 16384 linear pmem0 0\n16384 8192 linear pmem1 0\n");
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup table data", "0 16384 linear 259:0 0\n16384 8192 linear 259:1 0\n");
            String regions = s.run("ndctl list -R");
            assertTrue(regions.contains("\"dev\":\"region0\"") && regions.contains("\"dev\":\"region1\"")
                    && regions.contains("\"persistence_domain\":\"memory_controller\""), regions);
            String namespaces = s.run("ndctl list -N");
            assertTrue(namespaces.contains("\"dev\":\"namespace0.0\"") && namespaces.contains("\"blockdev\":\"pmem0\""), namespaces);
            assertEquals("1\n0\n", s.run("sysfs /sys/block/pmem0/dax/write_cache; sysfs /sys/block/pmem1/dax/write_cache"));

            s.run("ndctl inject-error namespace0.0 --block=64 --count=8");
            assertEquals("64 8\n", s.run("sysfs /sys/block/pmem0/badblocks"));
            assertTrue(s.run("ndctl inject-error namespace0.0 --status").contains("\"block\":64,\n      \"count\":8"));
            Dmstack.Result r = s.dmstack.execute("dd if=/dev/mapper/data of=/dev/null bs=4k skip=8 count=1");
            assertTrue(r.error() != null && r.error().startsWith("dd: error reading '/dev/mapper/data': Input/output error"), r.error());
            // A write over whole bad sectors clears them, as pmem does.
            s.run("dd if=/dev/zero of=/dev/mapper/data bs=4k seek=8 count=1");
            assertEquals("", s.run("sysfs /sys/block/pmem0/badblocks"));
            s.run("dd if=/dev/mapper/data of=/dev/null bs=4k skip=8 count=1");
        }
    }
}
