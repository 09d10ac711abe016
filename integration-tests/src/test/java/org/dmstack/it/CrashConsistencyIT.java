package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash consistency of the whole server: `dmstack --serve` on file-backed pmem is killed with
 * SIGKILL while an NBD client writes, directly to pmem0 and through a linear device over it, with
 * every write either FUA or followed by a FLUSH. After each restart every write the server
 * acknowledged must be there; the one write in flight at the kill may have landed, in part or not
 * at all.
 */
class CrashConsistencyIT {
    static final Path ROOT = Path.of(System.getProperty("dmstack.it.root", "..")).toAbsolutePath().normalize();
    static final int ROUNDS = 10;
    static final int BLOCKS = 256;
    static final int BLOCK = 4096;
    static final List<String> EXPORTS = List.of("direct", "lin");

    @TempDir Path dir;

    /** What each export must hold: the acknowledged version per block, and the write in flight. */
    static final class Model {
        final long[] acked = new long[BLOCKS];
        int pendingBlock = -1;
        long pendingVersion;
    }

    static byte[] content(int export, int block, long version) {
        byte[] b = new byte[BLOCK];
        if (version == 0) return b;
        Random r = new Random(((long) export << 48) ^ ((long) block << 32) ^ version);
        r.nextBytes(b);
        return b;
    }

    private int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private Process start(Path config, int round) throws IOException {
        Path dist = ROOT.resolve("launcher/target/dmstack/bin/dmstack");
        return new ProcessBuilder(dist.toString(), "--config", config.toString(), "--serve")
                .redirectOutput(dir.resolve("out-" + round + ".txt").toFile())
                .redirectError(dir.resolve("err-" + round + ".txt").toFile())
                .start();
    }

    private NbdClient connect(Process server, int port, String export, int round) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            try {
                return new NbdClient("127.0.0.1", port, export);
            } catch (IOException notYet) {
                if (!server.isAlive()) fail("the server exited with " + server.exitValue() + ": " + Files.readString(dir.resolve("err-" + round + ".txt")));
                if (System.nanoTime() > deadline) throw notYet;
                Thread.sleep(100);
            }
        }
    }

    /** Every block holds its acknowledged version, or (the block in flight) bytes of the old or the new one. */
    private void verify(NbdClient client, int export, Model m, int round) throws IOException {
        byte[] buf = new byte[BLOCK];
        for (int block = 0; block < BLOCKS; block++) {
            assertEquals(0, client.request(NbdClient.CMD_READ, 0, (long) block * BLOCK, buf, BLOCK));
            byte[] acked = content(export, block, m.acked[block]);
            if (Arrays.equals(buf, acked)) continue;
            if (block != m.pendingBlock) {
                fail("round " + round + ": " + EXPORTS.get(export) + " block " + block + " lost acknowledged version " + m.acked[block]);
            }
            byte[] pending = content(export, block, m.pendingVersion);
            for (int i = 0; i < BLOCK; i++) {
                if (buf[i] != acked[i] && buf[i] != pending[i]) fail("round " + round + ": block " + block + " byte " + i + " is neither old nor new");
            }
            m.acked[block] = Arrays.equals(buf, pending) ? m.pendingVersion : -1;
            if (m.acked[block] == -1) m.acked[block] = rewrite(client, export, block, m);
        }
        m.pendingBlock = -1;
    }

    /** A torn unacknowledged block is written again whole, so later rounds compare whole versions. */
    private long rewrite(NbdClient client, int export, int block, Model m) throws IOException {
        assertEquals(0, client.request(NbdClient.CMD_WRITE, NbdClient.CMD_FLAG_FUA, (long) block * BLOCK, content(export, block, m.pendingVersion), BLOCK));
        return m.pendingVersion;
    }

    @Test
    void everyAcknowledgedWriteSurvivesKillNine() throws Exception {
        Path config = Files.createDirectories(dir.resolve("etc"));
        int port = freePort();
        Files.writeString(config.resolve("pmem-crash.cfg"), "path = " + dir.resolve("pmem0.img") + "\nsize = 16M\ncreate = true\nname = pmem0\n");
        // lin: the second half of pmem0, so the two exports never share a block.
        Files.writeString(config.resolve("lin.table"), "0 16384 linear pmem0 16384\n");
        Files.writeString(config.resolve("nbd.cfg"), "address = 127.0.0.1\nport = " + port + "\nexports = direct=pmem0, lin=dm-0\n");

        List<Model> models = List.of(new Model(), new Model());
        Random random = new Random(42);
        long version = 0;
        int acknowledged = 0;
        for (int round = 0; round <= ROUNDS; round++) {
            Process server = start(config, round);
            try {
                List<NbdClient> clients = new ArrayList<>();
                for (String export : EXPORTS) clients.add(connect(server, port, export, round));
                for (int e = 0; e < EXPORTS.size(); e++) verify(clients.get(e), e, models.get(e), round);
                if (round == ROUNDS) break;

                // Write until the server is killed, at a random moment.
                long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300 + random.nextInt(700));
                Thread killer = Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(Math.max(0, (killAt - System.nanoTime()) / 1_000_000));
                    } catch (InterruptedException ignored) {
                        // kill now
                    }
                    server.destroyForcibly();
                });
                try {
                    while (true) {
                        int e = random.nextInt(EXPORTS.size());
                        Model m = models.get(e);
                        NbdClient c = clients.get(e);
                        int block = random.nextInt(BLOCKS);
                        long v = ++version;
                        m.pendingBlock = block;
                        m.pendingVersion = v;
                        boolean fua = random.nextBoolean();
                        int error = c.request(NbdClient.CMD_WRITE, fua ? NbdClient.CMD_FLAG_FUA : 0, (long) block * BLOCK, content(e, block, v), BLOCK);
                        assertEquals(0, error, "write error");
                        if (!fua) assertEquals(0, c.request(NbdClient.CMD_FLUSH, 0, 0, null, 0), "flush error");
                        m.acked[block] = v;
                        m.pendingBlock = -1;
                        acknowledged++;
                    }
                } catch (IOException killed) {
                    // the server is gone: what it acknowledged is in the models
                } finally {
                    killer.join();
                    for (NbdClient c : clients) c.close();
                }
            } finally {
                server.destroyForcibly();
                assertTrue(server.waitFor(30, TimeUnit.SECONDS));
            }
        }
        assertTrue(acknowledged > 100, "only " + acknowledged + " acknowledged writes in " + ROUNDS + " rounds: the test tested little");
        System.out.println("crash consistency: " + acknowledged + " acknowledged writes over " + ROUNDS + " kill -9 rounds, none lost");
    }
}
