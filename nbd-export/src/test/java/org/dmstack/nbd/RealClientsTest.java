package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.nbd.server.NbdServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * Real NBD clients from Debian packages against the server: nbdinfo and nbdcopy (libnbd-bin),
 * qemu-io and qemu-img (qemu-utils), nbd-client (nbd-client). A missing client fails the test with the package to
 * install; it is never skipped.
 */
class RealClientsTest extends ServerFixture {
    /** A safety net so a hung client fails the test instead of the build; not a timing assertion. */
    private static final long PROCESS_LIMIT_SECONDS = 120;

    @TempDir
    Path tmp;

    record Result(int exit, String out) {}

    static String require(String binary, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, binary);
            if (Files.isExecutable(p)) return p.toString();
        }
        fail(binary + " is not installed: install the Debian package " + debianPackage + " (apt-get install -y " + debianPackage + ")");
        return null;
    }

    Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    Result ok(String... command) throws IOException, InterruptedException {
        Result r = run(command);
        assertEquals(0, r.exit(), () -> String.join(" ", command) + " failed:\n" + r.out());
        return r;
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + port() + "/" + export;
    }

    @Test
    void aMissingClientFailsNamingThePackage() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> require("nbd-no-such-client", "libnbd-bin"));
        assertTrue(e.getMessage().contains("apt-get install -y libnbd-bin"), e.getMessage());
    }

    @Test
    void nbdinfoListsExportsAndSizes() throws Exception {
        String nbdinfo = require("nbdinfo", "libnbd-bin");
        String list = ok(nbdinfo, "--list", "--json", "nbd://127.0.0.1:" + port()).out();
        for (String name : List.of("disk", "ro", "pmem", "wc")) assertTrue(list.contains("\"export-name\": \"" + name + "\""), list);
        assertTrue(list.contains("\"export-size\": " + RAM_SIZE), list);
        assertTrue(list.contains("\"export-size\": " + (1 << 20)), list);

        assertEquals(Long.toString(RAM_SIZE), ok(nbdinfo, "--size", uri("disk")).out().strip());
        String pmemInfo = ok(nbdinfo, uri("pmem")).out();
        assertTrue(pmemInfo.contains("can_flush: true") && pmemInfo.contains("can_fua: true"), pmemInfo);
        assertTrue(pmemInfo.contains("can_multi_conn: true"), pmemInfo);
        assertTrue(pmemInfo.contains("block_size_minimum: 512") && pmemInfo.contains("block_size_preferred: 4096"), pmemInfo);
        String roInfo = ok(nbdinfo, uri("ro")).out();
        assertTrue(roInfo.contains("is_read_only: true") && roInfo.contains("can_flush: false"), roInfo);
    }

    /** nbd-client 3.24 (the reference implementation's client): its list, which needs no kernel module. */
    @Test
    void nbdClientListsTheExportsWithTheirDescriptions() throws Exception {
        String nbdClient = require("nbd-client", "nbd-client");
        assertEquals("""
                Negotiation: ..
                disk: ram0 (1:0)
                pmem: pmem0 (259:0)
                ro: ram0 (1:0), read-only
                wc: wc0 (259:1)
                """, ok(nbdClient, "-l", "127.0.0.1", Integer.toString(port())).out());
    }

    /** nbdinfo's --can and --is queries: exit status 0 for yes, 2 for no. */
    @Test
    void nbdinfoCanAndIsAnswerFromTheDevicesCapabilities() throws Exception {
        String nbdinfo = require("nbdinfo", "libnbd-bin");
        String[] queries = {"--can=flush", "--can=fua", "--can=trim", "--can=zero", "--can=fast-zero", "--can=df", "--can=multi-conn",
                "--can=cache", "--can=structured-reply", "--is=read-only", "--is=rotational"};
        StringBuilder answers = new StringBuilder();
        for (String export : List.of("disk", "pmem", "ro")) {
            answers.append(export).append(':');
            for (String q : queries) {
                String[] kv = q.split("=");
                int exit = run(nbdinfo, kv[0], kv[1], uri(export)).exit();
                assertTrue(exit == 0 || exit == 2, q + " " + export + " exited " + exit);
                if (exit == 0) answers.append(' ').append(kv[1]);
            }
            answers.append('\n');
        }
        assertEquals("""
                disk: trim zero df multi-conn structured-reply
                pmem: flush fua trim zero df multi-conn structured-reply
                ro: df multi-conn structured-reply read-only
                """, answers.toString());
    }

    /**
     * libnbd with its own checks off (python3-libnbd: {@code tests/resources/libnbd-exacting.py}):
     * every option and every bad request answered with the spec's reply or errno, each reply
     * passing libnbd's checks of what a server may send.
     */
    @Test
    void libnbdWithItsChecksOffGetsTheSpecsAnswerToEverything() throws Exception {
        Path python = Path.of("/usr/bin/python3"); // Debian's, which python3-libnbd installs the nbd module into
        Path script = tmp.resolve("libnbd-exacting.py");
        try (var in = RealClientsTest.class.getResourceAsStream("/libnbd-exacting.py")) {
            Files.copy(in, script);
        }
        Result r = run(python.toString(), script.toString(), Integer.toString(port()));
        if (r.out().contains("No module named")) fail("libnbd's Python module is not installed: apt-get install -y python3-libnbd\n" + r.out());
        assertEquals("""
                exports disk pmem ro wc
                info nope ENOENT
                info pmem OK
                pmem 1048576 [512, 4096, 33554432] pmem pmem0 (259:0)
                list contexts OK
                contexts ['base:allocation']
                go disk OK
                structured True base:allocation True
                read unaligned EINVAL
                read past the end EINVAL
                read of nothing OK
                read with an unknown flag EINVAL
                read 64 KiB unfragmented OK
                read 32 MiB + 512 EINVAL
                write past the end ENOSPC
                write with FUA not offered EINVAL
                trim 4 GiB - 512 EINVAL
                fast zero not offered EINVAL
                cache EINVAL
                block status past the end EINVAL
                block status OK
                extents [('base:allocation', 0, [4194304, 0])]
                write then read True
                simple: structured False
                simple: read unaligned EINVAL
                simple: read OK
                unfixed: newstyle 4194304
                unfixed: read OK
                ro: write EPERM
                ro: trim EPERM
                ro: zero EPERM
                """, r.out());
    }

    @Test
    void qemuIoWritesAPatternThatReadsBackAndSitsAtTheExpectedSectors() throws Exception {
        String qemuIo = require("qemu-io", "qemu-utils");
        ok(qemuIo, "-f", "raw", "-c", "write -P 0xa5 65536 131072", uri("disk"));
        String read = ok(qemuIo, "-f", "raw", "-c", "read -P 0xa5 65536 131072", uri("disk")).out();
        assertTrue(read.contains("read 131072/131072 bytes"), read);
        assertFalse(read.contains("Pattern verification failed"), read);
        // Offset 64 KiB is sector 128 of ram0; the bytes around the pattern are untouched.
        byte[] expected = new byte[131072];
        Arrays.fill(expected, (byte) 0xa5);
        assertArrayEquals(expected, bytesAt(ram, 128, 131072));
        assertArrayEquals(new byte[512], bytesAt(ram, 127, 512));
        assertArrayEquals(new byte[512], bytesAt(ram, 128 + 256, 512));
        // A different pattern does not verify: the check above means something.
        String wrong = run(qemuIo, "-f", "raw", "-c", "read -P 0x5a 65536 512", uri("disk")).out();
        assertTrue(wrong.contains("Pattern verification failed"), wrong);
    }

    @Test
    void qemuIoFlushAndFuaReachADeviceWithAWriteCache() throws Exception {
        String qemuIo = require("qemu-io", "qemu-utils");
        ok(qemuIo, "-f", "raw", "-c", "write -f -P 0x3c 4096 4096", "-c", "flush", uri("pmem"));
        assertTrue(pmem.log.contains("WRITE[FUA] 8 4096"), pmem.log::toString);
        assertTrue(pmem.count(BioOp.FLUSH) >= 1, pmem.log::toString);
        byte[] expected = new byte[4096];
        Arrays.fill(expected, (byte) 0x3c);
        assertArrayEquals(expected, bytesAt(pmem, 8, 4096));
    }

    @Test
    void qemuIoSeesAReadOnlyExportAsReadOnly() throws Exception {
        String qemuIo = require("qemu-io", "qemu-utils");
        Result r = run(qemuIo, "-f", "raw", "-c", "write -P 0x11 0 4096", uri("ro"));
        assertTrue(r.exit() != 0 && r.out().contains("Permission denied"), "qemu sees READ_ONLY and will not open it for writing:\n" + r.out());
        assertEquals(0, ram.count(BioOp.WRITE));
        String read = ok(qemuIo, "-r", "-f", "raw", "-c", "read -P 0 0 4096", uri("ro")).out();
        assertTrue(read.contains("read 4096/4096 bytes"), read);
    }

    @Test
    void nbdcopyCopiesAFileInAndOutByteExact() throws Exception {
        String nbdcopy = require("nbdcopy", "libnbd-bin");
        byte[] data = pattern(1 << 20, 42);
        Path in = tmp.resolve("in.img");
        Path out = tmp.resolve("out.img");
        Files.write(in, data);
        ok(nbdcopy, in.toString(), uri("pmem"));
        assertArrayEquals(data, bytesAt(pmem, 0, data.length), "the device below holds the file");
        ok(nbdcopy, uri("pmem"), out.toString());
        assertArrayEquals(data, Files.readAllBytes(out));
    }

    @Test
    void qemuImgConvertsAndComparesThroughTheExport() throws Exception {
        String qemuImg = require("qemu-img", "qemu-utils");
        byte[] data = pattern(1 << 20, 43);
        Path in = tmp.resolve("in.raw");
        Files.write(in, data);
        ok(qemuImg, "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), uri("wc"));
        assertArrayEquals(data, bytesAt(wc, 0, data.length));
        ok(qemuImg, "compare", "-f", "raw", "-F", "raw", in.toString(), uri("wc"));
        String info = ok(qemuImg, "info", "--output=json", uri("disk")).out();
        assertTrue(info.contains("\"virtual-size\": " + RAM_SIZE), info);
    }

    @Test
    void manyRealClientsAtOnce() throws Exception {
        String qemuIo = require("qemu-io", "qemu-utils");
        List<Process> procs = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String cmd = String.format("write -P 0x%02x %d 65536", 0x10 + i, i * 65536);
            procs.add(new ProcessBuilder(qemuIo, "-f", "raw", "-c", cmd, uri("disk")).redirectErrorStream(true).start());
        }
        for (Process p : procs) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS), "qemu-io did not finish");
            assertEquals(0, p.exitValue(), out);
        }
        for (int i = 0; i < 6; i++) {
            byte[] expected = new byte[65536];
            Arrays.fill(expected, (byte) (0x10 + i));
            assertArrayEquals(expected, bytesAt(ram, i * 128L, 65536), "client " + i);
        }
    }

    /**
     * A brd RAM disk tells its holes (pages never written) through base:allocation: nbdinfo
     * --map and qemu-img map show exactly the pages written, and nbdcopy copies the data and the
     * zeros between, byte-exact.
     */
    @Test
    void mapsOfABrdDiskShowTheWrittenPagesAndNbdcopyCopiesItByteExact() throws Exception {
        String nbdinfo = require("nbdinfo", "libnbd-bin");
        String nbdcopy = require("nbdcopy", "libnbd-bin");
        String qemuIo = require("qemu-io", "qemu-utils");
        String qemuImg = require("qemu-img", "qemu-utils");
        BlockDeviceRegistry devices = new BlockDeviceRegistry();
        Brd brd = new Brd(devices, new BrdConfig(1, 4096)); // ram0, 4 MiB
        try (NbdServer sparse = NbdServer.builder().backends(new BlockBackends(devices)).port(0).export("ram0").start()) {
            String uri = "nbd://127.0.0.1:" + sparse.port() + "/ram0";
            assertEquals("         0     4194304    3  hole,zero\n", ok(nbdinfo, "--map", uri).out());
            ok(qemuIo, "-f", "raw", "-c", "write -P 0x5a 4096 8192", "-c", "write -P 0x11 1M 512", uri);
            assertEquals("""
                             0        4096    3  hole,zero
                          4096        8192    0  data
                         12288     1036288    3  hole,zero
                       1048576        4096    0  data
                       1052672     3141632    3  hole,zero
                    """, ok(nbdinfo, "--map", uri).out());
            assertEquals("""
                    [{ "start": 0, "length": 4096, "depth": 0, "present": true, "zero": true, "data": false, "offset": 0},
                    { "start": 4096, "length": 8192, "depth": 0, "present": true, "zero": false, "data": true, "offset": 4096},
                    { "start": 12288, "length": 1036288, "depth": 0, "present": true, "zero": true, "data": false, "offset": 12288},
                    { "start": 1048576, "length": 4096, "depth": 0, "present": true, "zero": false, "data": true, "offset": 1048576},
                    { "start": 1052672, "length": 3141632, "depth": 0, "present": true, "zero": true, "data": false, "offset": 1052672}]
                    """, ok(qemuImg, "map", "--output=json", "-f", "raw", uri).out());

            Path copy = tmp.resolve("copy.raw");
            ok(nbdcopy, uri, copy.toString());
            byte[] expected = new byte[4 << 20];
            Arrays.fill(expected, 4096, 12288, (byte) 0x5a);
            Arrays.fill(expected, 1 << 20, (1 << 20) + 512, (byte) 0x11);
            assertArrayEquals(expected, Files.readAllBytes(copy));
        } finally {
            brd.destroy();
        }
    }
}
