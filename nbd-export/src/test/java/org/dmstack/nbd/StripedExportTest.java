package org.dmstack.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.stripe.StripedTargetType;
import org.dmstack.nbd.server.NbdServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real stack behind the export: a striped device over two brd RAM disks. Real clients write
 * through NBD and the data is found at the sectors of the RAM disks that striping puts it on.
 */
class StripedExportTest {
    private static final int CHUNK_SECTORS = 16;

    @TempDir
    Path tmp;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final Brd brd = new Brd(registry, new BrdConfig(2, 4096));
    private final DeviceMapper dm = new DeviceMapper(registry);
    private final NbdServer server;

    StripedExportTest() throws IOException {
        dm.targetTypes().register(new StripedTargetType());
        dm.create("stripe", "0 8192 striped 2 " + CHUNK_SECTORS + " ram0 0 ram1 0");
        server = NbdServer.builder().port(0).backends(new BlockBackends(registry)).export("stripe=dm-0").start();
    }

    @AfterEach
    void stop() {
        server.close();
        dm.close();
        brd.destroy();
    }

    private String uri() {
        return "nbd://127.0.0.1:" + server.port() + "/stripe";
    }

    private static String ok(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, p.exitValue(), () -> String.join(" ", command) + " failed:\n" + out);
        return out;
    }

    private byte[] sectorsOf(String device, long sector, int count) {
        BlockDevice d = registry.lookup(device);
        MemorySegment buf = Arena.ofAuto().allocate(count * 512L);
        Bio read = Bio.read(sector, buf);
        d.submit(read);
        assertEquals(BlkStatus.OK, read.await());
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    private static byte[] filled(int bytes, int value) {
        byte[] b = new byte[bytes];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Test
    void qemuIoPatternsLandOnTheStripesBelow() throws Exception {
        String qemuIo = RealClientsTest.require("qemu-io", "qemu-utils");
        int chunk = CHUNK_SECTORS * 512;
        ok(qemuIo, "-f", "raw", "-c", "write -P 0x11 0 " + chunk, "-c", "write -P 0x22 " + chunk + " " + chunk,
                "-c", "write -P 0x33 " + 2 * chunk + " " + 2 * chunk, uri());
        String read = ok(qemuIo, "-f", "raw", "-c", "read -P 0x33 " + 2 * chunk + " " + 2 * chunk, uri());
        assertFalse(read.contains("Pattern verification failed"), read);
        // chunk 0 -> ram0 chunk 0, chunk 1 -> ram1 chunk 0, chunks 2 and 3 -> chunk 1 of ram0 and ram1
        assertArrayEquals(filled(chunk, 0x11), sectorsOf("ram0", 0, CHUNK_SECTORS));
        assertArrayEquals(filled(chunk, 0x22), sectorsOf("ram1", 0, CHUNK_SECTORS));
        assertArrayEquals(filled(chunk, 0x33), sectorsOf("ram0", CHUNK_SECTORS, CHUNK_SECTORS));
        assertArrayEquals(filled(chunk, 0x33), sectorsOf("ram1", CHUNK_SECTORS, CHUNK_SECTORS));
        assertArrayEquals(new byte[512], sectorsOf("ram0", 2 * CHUNK_SECTORS, 1), "nothing beyond what was written");
    }

    @Test
    void nbdcopyRoundTripsAFileThroughTheStripedDevice() throws Exception {
        String nbdcopy = RealClientsTest.require("nbdcopy", "libnbd-bin");
        byte[] data = new byte[4 << 20];
        new Random(7).nextBytes(data);
        Path in = Files.write(tmp.resolve("in.img"), data);
        Path out = tmp.resolve("out.img");
        ok(nbdcopy, in.toString(), uri());
        ok(nbdcopy, uri(), out.toString());
        assertArrayEquals(data, Files.readAllBytes(out));
        // The fifth chunk of the file is ram0's third chunk.
        int chunk = CHUNK_SECTORS * 512;
        assertArrayEquals(Arrays.copyOfRange(data, 4 * chunk, 5 * chunk), sectorsOf("ram0", 2L * CHUNK_SECTORS, CHUNK_SECTORS));
        assertArrayEquals(Arrays.copyOfRange(data, 5 * chunk, 6 * chunk), sectorsOf("ram1", 2L * CHUNK_SECTORS, CHUNK_SECTORS));
    }
}
