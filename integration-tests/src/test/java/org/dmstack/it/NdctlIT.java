package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.dmstack.launcher.Dmstack;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
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

    /**
     * A real table, compiled by iasl from nfit's test source nfit-interleaved.asl (its nmem0 is
     * not armed): in the running stack region0 and pmem0 are read-only, as Linux 6.1 makes them,
     * until region0's read_only is written.
     */
    @Test
    void anUnarmedNvdimmMakesItsRegionAndDiskReadOnlyUntilReadOnlyIsWritten() throws Exception {
        Path asl = Path.of("../nfit/src/test/resources/iasl/nfit-interleaved.asl").toAbsolutePath().normalize();
        Process iasl = new ProcessBuilder("iasl", "-p", dir.resolve("NFIT").toString(), asl.toString())
                .redirectErrorStream(true).start();
        String said = new String(iasl.getInputStream().readAllBytes());
        assertEquals(0, iasl.waitFor(), "iasl (package acpica-tools) compiles " + asl + ":\n" + said);
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("nfit-real.cfg"), "table = " + dir.resolve("NFIT.aml") + "\nbacking = "
                + dir.resolve("region0.img") + "\n");
        try (ItStack s = ItStack.start(config)) {
            s.awaitOutput("sysfs /sys/block/pmem0/ro", "1\n");
            assertEquals("1\n", s.run("sysfs /sys/bus/nd/devices/region0/read_only"));
            assertEquals("not_armed smart_event \n", s.run("sysfs /sys/bus/nd/devices/nmem0/nfit/flags"));
            assertTrue(s.run("ndctl list -D").contains("\"flag_failed_arm\":true"));
            assertTrue(s.fail("dd if=/dev/zero of=/dev/pmem0 bs=4k count=1")
                    .startsWith("dd: error writing '/dev/pmem0': Operation not permitted"));
            s.run("sysfs /sys/bus/nd/devices/region0/read_only 0");
            assertEquals("0\n", s.run("sysfs /sys/block/pmem0/ro"));
            s.run("dd if=/dev/zero of=/dev/pmem0 bs=4k count=1");

            // A pmem driver that comes back (a bundle stop and start, as an update does) finds the region as it was left.
            Bundle pmem = s.bundle("org.dmstack.pmem");
            pmem.stop();
            pmem.start();
            s.awaitOutput("sysfs /sys/block/pmem0/ro", "0\n");
        }
    }
}
