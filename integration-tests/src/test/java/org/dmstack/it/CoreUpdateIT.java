package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;

/**
 * Updating the core bundle takes device-mapper, and with it every mapped device, away: when it
 * returns, the config folder applies every table file again, and I/O works on them; data on a
 * file-backed pmem device under a table is still there. NBD clients keep their connections:
 * their requests wait while core is away and are served when the devices are back.
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

    @Test
    void nbdClientsKeepTheirConnectionsAcrossACoreUpdateAndTheirRequestsMeanwhileAreHeldNotFailed() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(config.resolve("pmem-a.cfg"), "path = " + dir.resolve("pmem0.img") + "\nsize = 4M\ncreate = true\nname = pmem0\n");
        Files.writeString(config.resolve("lin.table"), "0 8192 linear pmem0 0\n");
        Files.writeString(config.resolve("nbd.cfg"), "address = 127.0.0.1\nport = 0\nexports = p=pmem0, l=dm-0\n");
        byte[] before = new byte[64 * 1024];
        new Random(18_2).nextBytes(before);
        try (ItStack s = ItStack.startWithLinear(config)) {
            s.awaitOutput("dmsetup table lin", "0 8192 linear 259:0 0\n");
            ItStack.await("the NBD server", () -> s.dmstack.nbdAddress() != null);
            int port = s.dmstack.nbdAddress().getPort();
            ServiceReference<?> server = s.dmstack.context().getServiceReference("org.dmstack.nbd.server.NbdServer");
            try (NbdClient pmem = new NbdClient("127.0.0.1", port, "p"); NbdClient lin = new NbdClient("127.0.0.1", port, "l")) {
                assertEquals(0, pmem.request(NbdClient.CMD_WRITE, 0, 0, before, 0), "write before the update");
                assertEquals(0, pmem.request(NbdClient.CMD_FLUSH, 0, 0, null, 0));

                // Both clients write blocks and read them back, all through the update.
                AtomicBoolean stop = new AtomicBoolean();
                Io onPmem = new Io(pmem, 1 << 20, stop);
                Io onLin = new Io(lin, 2 << 20, stop);
                ItStack.await("I/O going on", () -> onPmem.moreThan(10) && onLin.moreThan(10));

                for (int round = 1; round <= 3; round++) {
                    Bundle core = s.bundle("org.dmstack.core");
                    s.update(core, Path.of(java.net.URI.create(core.getLocation())));
                    s.awaitOutput("dmsetup table lin", "0 8192 linear 259:0 0\n");
                    int pmemAfter = onPmem.done.get(), linAfter = onLin.done.get();
                    ItStack.await("I/O going on after update " + round, () -> onPmem.moreThan(pmemAfter + 10) && onLin.moreThan(linAfter + 10));
                }
                stop.set(true);
                assertEquals("ok", onPmem.result.get(), "pmem0: no request failed, none went unanswered");
                assertEquals("ok", onLin.result.get(), "dm-0: no request failed, none went unanswered");

                byte[] back = new byte[before.length];
                assertEquals(0, lin.request(NbdClient.CMD_READ, 0, 0, back, back.length), "the same connection, after the update");
                assertArrayEquals(before, back, "what was written to pmem0 before the update reads back through lin");
                assertEquals(0, pmem.request(NbdClient.CMD_READ, 0, 0, back, back.length));
                assertArrayEquals(before, back, "and on pmem0");
            }
            assertEquals(server.getProperty("service.id"), s.dmstack.context().getServiceReference("org.dmstack.nbd.server.NbdServer")
                    .getProperty("service.id"), "the NBD server was not restarted");
        }
    }

    /** A client writing 4 KiB blocks from {@code base} on and reading each back, until told to stop. */
    private static final class Io {
        final AtomicInteger done = new AtomicInteger();
        final CompletableFuture<String> result;

        Io(NbdClient c, long base, AtomicBoolean stop) {
            result = CompletableFuture.supplyAsync(() -> {
                try {
                    for (int i = 0; !stop.get(); i++) {
                        byte[] block = block(i);
                        long at = base + (i % 256) * 4096L;
                        int w = c.request(NbdClient.CMD_WRITE, 0, at, block, 0);
                        byte[] back = new byte[4096];
                        int r = c.request(NbdClient.CMD_READ, 0, at, back, 4096);
                        if (w != 0 || r != 0) return "block " + i + ": write error " + w + ", read error " + r;
                        if (!Arrays.equals(block, back)) return "block " + i + " read back other bytes";
                        done.incrementAndGet();
                    }
                    return "ok";
                } catch (Exception e) {
                    return "block I/O failed: " + e;
                }
            }, Thread::startVirtualThread);
        }

        /** More than {@code n} blocks done, or the I/O ended (with its verdict). */
        boolean moreThan(int n) {
            return done.get() > n || result.isDone();
        }
    }

    private static byte[] block(int i) {
        byte[] b = new byte[4096];
        new Random(i).nextBytes(b);
        return b;
    }
}
