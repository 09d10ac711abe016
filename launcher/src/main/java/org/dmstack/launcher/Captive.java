package org.dmstack.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Captive mode, as nbdkit's {@code --run}: a program run with {@code /bin/sh -c} against the
 * running stack, whose exit status becomes dmstack's. It finds the stack in its environment:
 * {@code $uri} ({@code nbd://127.0.0.1:10809}; the default export when there is one, else add
 * {@code /NAME}), {@code $nbd} (the same in the old {@code nbd:HOST:PORT} form qemu also takes),
 * {@code $port}, and {@code $DMSTACK_SOCKET}, so {@code dmstack ctl} in it reaches this instance.
 */
final class Captive {
    private final Process process;

    private Captive(Process process) {
        this.process = process;
    }

    static Captive start(String command, Map<String, String> environment) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).inheritIO();
        pb.environment().putAll(environment);
        return new Captive(pb.start());
    }

    /**
     * The program's variables for an NBD server on {@code nbd} (null when none runs: then the NBD
     * variables are empty, and a warning says so).
     */
    static Map<String, String> environment(InetSocketAddress nbd, Path socket, PrintStream err) {
        Map<String, String> env = new LinkedHashMap<>();
        if (nbd == null) {
            err.println("dmstack: warning: no NBD server is running (see nbd.cfg); $uri, $nbd and $port are empty");
            env.put("uri", "");
            env.put("nbd", "");
            env.put("port", "");
        } else {
            String host = host(nbd);
            env.put("uri", "nbd://" + host + ":" + nbd.getPort());
            env.put("nbd", "nbd:" + host + ":" + nbd.getPort());
            env.put("port", Integer.toString(nbd.getPort()));
        }
        env.put(Main.SOCKET_VARIABLE, socket.toString());
        return env;
    }

    /** The host part of a URI for the server's address; a server on every interface is reached on loopback. */
    private static String host(InetSocketAddress a) {
        if (a.getAddress().isAnyLocalAddress()) return a.getAddress() instanceof Inet6Address ? "[::1]" : "127.0.0.1";
        String literal = a.getAddress().getHostAddress();
        return a.getAddress() instanceof Inet6Address ? "[" + literal.replaceFirst("%.*", "") + "]" : literal;
    }

    /** The program's exit status (128 + the signal when a signal ended it, as the shell reports it). */
    int waitFor() throws InterruptedException {
        return process.waitFor();
    }

    /** Ends the program and what it started, when dmstack is stopped first. */
    void destroy() {
        if (!process.isAlive()) return;
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
    }
}
