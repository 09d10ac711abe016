package org.dmstack.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket with a stand-in shell: "wait NAME" blocks until "release NAME" runs (from
 * another client), "fail" fails, "nosuch" fails as lsblk does (status 32), anything else is echoed on stdout and stderr.
 */
class ControlServerTest {
    @TempDir Path dir;
    private final ConcurrentHashMap<String, CountDownLatch> latches = new ConcurrentHashMap<>();
    private final AtomicInteger finished = new AtomicInteger();

    private Dmstack.Failure execute(String commands, java.io.InputStream in, PrintStream out, PrintStream err) {
        try {
            String[] w = commands.split(" ", 2);
            switch (w[0]) {
                case "wait" -> {
                    out.println("waiting for " + w[1]);
                    latch(w[1]).await();
                    out.println(w[1] + " released");
                }
                case "release" -> latch(w[1]).countDown();
                case "fail" -> {
                    err.println("device-mapper: remove ioctl on nosuch  failed: No such device or address");
                    return new Dmstack.Failure("Command failed.", 1);
                }
                case "nosuch" -> {
                    return new Dmstack.Failure("lsblk: nosuch: not a block device", 32);
                }
                default -> {
                    out.println(commands);
                    err.println("on stderr: " + commands);
                }
            }
            return null;
        } catch (InterruptedException e) {
            return new Dmstack.Failure("interrupted", 1);
        } finally {
            finished.incrementAndGet();
        }
    }

    private CountDownLatch latch(String name) {
        return latches.computeIfAbsent(name, n -> new CountDownLatch(1));
    }

    private record Reply(int status, String out, String err) {}

    private static Reply ctl(Path socket, String commands) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ControlClient.run(socket, commands, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Reply(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void outputErrorsAndExitStatusComeBackApart() throws Exception {
        try (ControlServer s = ControlServer.start(this::execute, dir.resolve("d.sock"))) {
            assertEquals(new Reply(0, "dmsetup ls\n", "on stderr: dmsetup ls\n"), ctl(s.path(), "dmsetup ls"));
            assertEquals(new Reply(1, "", "device-mapper: remove ioctl on nosuch  failed: No such device or address\nCommand failed.\n"), ctl(s.path(), "fail"));
            assertEquals(new Reply(32, "", "lsblk: nosuch: not a block device\n"), ctl(s.path(), "nosuch"));
        }
    }

    @Test
    void theSocketIsTheOwnersOnlyAndGoesAwayOnClose() throws Exception {
        Path path = dir.resolve("run/d.sock");
        try (ControlServer s = ControlServer.start(this::execute, path)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
            assertEquals(Files.getOwner(dir), Files.getOwner(path));
            IOException e = assertThrows(IOException.class, () -> ControlServer.start(this::execute, path));
            assertEquals("another dmstack is listening on " + path + " (choose another with --socket)", e.getMessage());
            assertEquals(List.of("d.sock"), Files.list(path.getParent()).map(p -> p.getFileName().toString()).toList());
        }
        assertTrue(Files.notExists(path));
    }

    @Test
    void aSocketLeftByAnInstanceThatIsGoneIsReplaced() throws Exception {
        Path path = dir.resolve("d.sock");
        try (var ch = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(path));
        }
        assertTrue(Files.exists(path), "a stale socket file");
        try (ControlServer s = ControlServer.start(this::execute, path)) {
            assertEquals(0, ctl(path, "lsblk").status());
        }
    }

    @Test
    void twoClientsAtOnce() throws Exception {
        try (ControlServer s = ControlServer.start(this::execute, dir.resolve("d.sock"))) {
            CompletableFuture<Reply> first = CompletableFuture.supplyAsync(() -> ctl(s.path(), "wait a"));
            // The first is still running its command when the second runs its own and releases it.
            assertEquals(new Reply(0, "", ""), ctl(s.path(), "release a"));
            assertEquals(new Reply(0, "waiting for a\na released\n", ""), first.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aClientThatGoesAwayMidCommandLeavesTheServerHealthy() throws Exception {
        try (ControlServer s = ControlServer.start(this::execute, dir.resolve("d.sock"))) {
            SocketChannel gone = SocketChannel.open(UnixDomainSocketAddress.of(s.path()));
            byte[] c = "wait b".getBytes(StandardCharsets.UTF_8);
            ControlFrames.write(gone, ControlFrames.COMMANDS, c, 0, c.length);
            ControlFrames.Frame f = ControlFrames.read(gone, 1 << 20);
            assertEquals("waiting for b\n", new String(f.data(), StandardCharsets.UTF_8));
            gone.close();
            // Its command runs to its end with nobody to print to; the server serves the next clients.
            assertEquals(0, ctl(s.path(), "release b").status());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (finished.get() < 2 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(2, finished.get());
            assertEquals(new Reply(0, "lsblk\n", "on stderr: lsblk\n"), ctl(s.path(), "lsblk"));
        }
    }

    @Test
    void aRequestThatIsNotCommandsIsDropped() throws Exception {
        try (ControlServer s = ControlServer.start(this::execute, dir.resolve("d.sock"));
                SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(s.path()))) {
            ControlFrames.write(ch, ControlFrames.OUT, new byte[3], 0, 3);
            assertEquals(null, ControlFrames.read(ch, 1 << 20), "closed without running anything");
            assertEquals(0, finished.get());
        }
    }
}
