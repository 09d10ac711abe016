package org.dmstack.launcher;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The control socket of a running dmstack: a Unix domain socket, readable and writable by its
 * owner only, on which {@code dmstack ctl} runs shell command lines in this instance (format in
 * {@link ControlFrames}). Each client gets its own Gogo session on a thread of its own, so
 * clients run side by side; a client that goes away mid-command only loses the output: the
 * command runs to its end and the instance carries on.
 *
 * <p>The socket file is bound under a temporary name, made owner-only, then renamed into place,
 * so there is no moment in which others may connect; peers of another user are refused as well
 * (SO_PEERCRED), in case the folder's permissions let them reach the file.
 */
public final class ControlServer implements AutoCloseable {
    /** What runs the command lines: {@link Dmstack#execute(String, InputStream, PrintStream, PrintStream)}. */
    @FunctionalInterface
    public interface Shell {
        /** Runs the command lines; returns null, or how the one that failed failed. */
        Dmstack.Failure execute(String commands, InputStream in, PrintStream out, PrintStream err);
    }

    private final Shell shell;
    private final Path path;
    private final UserPrincipal owner;
    private final ServerSocketChannel server;
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private ControlServer(Shell shell, Path path, ServerSocketChannel server) throws IOException {
        this.shell = shell;
        this.path = path;
        this.owner = Files.getOwner(path);
        this.server = server;
        this.acceptor = Thread.ofPlatform().name("dmstack-control").daemon().unstarted(this::accept);
    }

    /**
     * Listens on {@code path}. A socket file left behind by a dmstack that is gone is replaced;
     * one on which a dmstack still answers is an error.
     */
    public static ControlServer start(Shell shell, Path path) throws IOException {
        path = path.toAbsolutePath();
        Files.createDirectories(path.getParent());
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            checkFree(path);
            Files.delete(path);
        }
        Path tmp = path.resolveSibling("." + path.getFileName() + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot place the control socket at " + path + ": " + e.getMessage(), e);
            }
        } catch (IOException e) {
            server.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
        ControlServer s = new ControlServer(shell, path, server);
        s.acceptor.start();
        return s;
    }

    /** Fails when an instance already answers on {@code path}, before anything is started. */
    static void checkFree(Path path) throws IOException {
        if (answers(path)) throw new IOException("another dmstack is listening on " + path + " (choose another with --socket)");
    }

    private static boolean answers(Path path) {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    private void accept() {
        while (server.isOpen()) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            clients.add(client);
            Thread.ofVirtual().name("dmstack-control-client").start(() -> serve(client));
        }
    }

    private void serve(SocketChannel client) {
        try (client) {
            if (!sameUser(client)) {
                byte[] m = "dmstack: the control socket serves its owner only\n".getBytes(StandardCharsets.UTF_8);
                ControlFrames.write(client, ControlFrames.ERR, m, 0, m.length);
                ControlFrames.writeExit(client, 2);
                return;
            }
            ControlFrames.Frame request = ControlFrames.read(client, ControlFrames.MAX_COMMANDS);
            if (request == null || request.type() != ControlFrames.COMMANDS) return;
            String commands = new String(request.data(), StandardCharsets.UTF_8);
            int status;
            try (PrintStream out = frames(client, ControlFrames.OUT); PrintStream err = frames(client, ControlFrames.ERR)) {
                Dmstack.Failure failure = shell.execute(commands, new ByteArrayInputStream(new byte[0]), out, err);
                if (failure != null) err.println(failure.message());
                status = failure == null ? 0 : failure.status();
            }
            ControlFrames.writeExit(client, status);
        } catch (IOException gone) {
            // The client went away; its command has ended (or ends) on its own.
        } finally {
            clients.remove(client);
        }
    }

    private static PrintStream frames(SocketChannel ch, byte type) {
        return new PrintStream(new BufferedOutputStream(ControlFrames.stream(ch, type), 8192), true, StandardCharsets.UTF_8);
    }

    private boolean sameUser(SocketChannel client) throws IOException {
        UnixDomainPrincipal peer = client.getOption(ExtendedSocketOptions.SO_PEERCRED);
        return peer.user().equals(owner);
    }

    /** Stops listening, removes the socket file and disconnects clients still connected. */
    @Override
    public void close() {
        try {
            server.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // nothing more to release
        }
        for (SocketChannel c : clients) {
            try {
                c.close();
            } catch (IOException e) {
                // already gone
            }
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
