package org.dmstack.nbd.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real NBD servers and clients from Debian packages, started by the tests on Unix sockets in
 * temporary folders: nbdkit (package nbdkit), qemu-nbd and qemu-io (qemu-utils), nbdcopy
 * (libnbd-bin); nbd-server (nbd-server), the reference implementation, on a free loopback port
 * (it cannot listen on a Unix socket or port 0). A missing program fails the test naming the
 * package; it is never skipped.
 */
final class Peers implements AutoCloseable {
    /** A safety net so a hung program fails the test instead of the build; not a timing assertion. */
    private static final long PROCESS_LIMIT_SECONDS = 60;

    private final List<Process> servers = new ArrayList<>();
    private final List<Path> nbdServers = new ArrayList<>(); // their configuration files

    static String require(String binary, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, binary);
            if (Files.isExecutable(p)) return p.toString();
        }
        fail(binary + " is not installed: install the Debian package " + debianPackage + " (apt-get install -y " + debianPackage + ")");
        return null;
    }

    /**
     * nbdkit in the foreground on {@code socket}, with its plugin and arguments, e.g. "memory", "16M".
     * It is ready when it has written its pid file ("after nbdkit becomes ready to accept
     * connections", nbdkit(1)), not when a probe gets through: nbdkit counts a probe as a client for
     * a moment after it has gone, and its limit filter then turns away the first real one.
     */
    Process nbdkit(Path socket, String... pluginAndArgs) throws IOException, InterruptedException {
        Path ready = socket.resolveSibling(socket.getFileName() + ".pid");
        Files.deleteIfExists(ready);
        List<String> cmd = new ArrayList<>(List.of(require("nbdkit", "nbdkit"), "-f", "--exit-with-parent", "-U", socket.toString(),
                "--pidfile", ready.toString()));
        cmd.addAll(List.of(pluginAndArgs));
        return serve(socket, cmd, ready);
    }

    /** qemu-nbd serving a raw file on {@code socket}, allowing {@code shared} clients, with more of its options. */
    Process qemuNbd(Path socket, Path file, int shared, String... options) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(require("qemu-nbd", "qemu-utils"), "-k", socket.toString(), "-f", "raw", "--shared=" + shared,
                "--persistent"));
        cmd.addAll(List.of(options));
        cmd.add(file.toString());
        return serve(socket, cmd);
    }

    /**
     * nbd-server 3.24 with its configuration file (which sets the port), as a daemon: it forks a
     * process per connection, and without forking (-d) it would serve one client at a time. It is
     * stopped with SIGTERM, on which it ends its connections' processes too.
     */
    void nbdServer(Path config, int port) throws IOException, InterruptedException {
        Path pid = config.resolveSibling(config.getFileName() + ".pid");
        Files.deleteIfExists(pid);
        run(require("nbd-server", "nbd-server"), "-C", config.toString(), "-p", pid.toString());
        nbdServers.add(config);
        long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROCESS_LIMIT_SECONDS);
        while (true) {
            try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
                return;
            } catch (IOException e) {
                if (System.nanoTime() > limit) fail("nbd-server -C " + config + " did not start listening on port " + port);
                Thread.sleep(20);
            }
        }
    }

    /** Stops the nbd-server started with {@code config} (SIGTERM) and waits until it is gone. */
    static void stopNbdServer(Path config) throws IOException {
        Path pid = config.resolveSibling(config.getFileName() + ".pid");
        if (!Files.exists(pid)) return;
        ProcessHandle.of(Long.parseLong(Files.readString(pid).strip())).ifPresent(p -> {
            p.destroy();
            p.onExit().orTimeout(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS).join();
        });
        Files.deleteIfExists(pid); // it removes it itself on SIGTERM
    }

    /** A loopback port nothing listens on now, for servers that cannot be given port 0. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private Process serve(Path socket, List<String> cmd) throws IOException, InterruptedException {
        return serve(socket, cmd, null);
    }

    /** Starts a server on {@code socket}; ready when {@code pidFile} holds a whole line, or without one when a connection gets through. */
    private Process serve(Path socket, List<String> cmd, Path pidFile) throws IOException, InterruptedException {
        Files.deleteIfExists(socket);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(socket.resolveSibling(socket.getFileName() + ".log").toFile())
                .start();
        servers.add(p);
        long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(PROCESS_LIMIT_SECONDS);
        while (true) {
            if (!p.isAlive()) fail(String.join(" ", cmd) + " exited: " + Files.readString(socket.resolveSibling(socket.getFileName() + ".log")));
            if (pidFile != null) {
                if (Files.exists(pidFile) && Files.readString(pidFile).endsWith("\n")) return p;
            } else if (Files.exists(socket)) {
                try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    return p;
                } catch (IOException e) {
                    // not listening yet
                }
            }
            if (System.nanoTime() > limit) fail(String.join(" ", cmd) + " did not start listening");
            Thread.sleep(20);
        }
    }

    /** Kills a server as a crash would (SIGKILL) and waits until it is gone. */
    static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        p.waitFor();
    }

    /** Runs a program that must succeed; returns its output. */
    static String run(String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("dmstack-nbd-driver-test", ".out");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", cmd) + " did not finish");
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + " failed:\n" + text);
            return text;
        } finally {
            Files.delete(out);
        }
    }

    /** The whole export, read by nbdcopy into a byte array. */
    static byte[] nbdcopy(String uri, Path tmp) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "export", ".img");
        run(require("nbdcopy", "libnbd-bin"), "--connections=1", uri, out.toString());
        return Files.readAllBytes(out);
    }

    static String unixUri(Path socket) {
        return "nbd+unix:///?socket=" + socket;
    }

    @Override
    public void close() throws InterruptedException, IOException {
        for (Process p : servers) kill(p);
        for (Path config : nbdServers) stopNbdServer(config);
    }
}
