package org.dmstack.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code dmstack ctl}: sends command lines to a running dmstack over its control socket and prints
 * what they print, standard output and standard error apart.
 */
public final class ControlClient {
    /** The status when no instance answers (as for an unusable command line: nothing ran). */
    public static final int NOT_RUNNING = 3;

    private ControlClient() {}

    /** Runs {@code commands} in the instance listening on {@code socket}; returns their exit status. */
    public static int run(Path socket, String commands, PrintStream out, PrintStream err) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            err.println("dmstack: no dmstack is listening on " + socket + ": " + reason(e));
            return NOT_RUNNING;
        }
        try (ch) {
            byte[] c = commands.getBytes(StandardCharsets.UTF_8);
            ControlFrames.write(ch, ControlFrames.COMMANDS, c, 0, c.length);
            for (;;) {
                ControlFrames.Frame f = ControlFrames.read(ch, Integer.MAX_VALUE - 8);
                if (f == null) {
                    err.println("dmstack: the instance on " + socket + " closed the connection before the commands ended");
                    return NOT_RUNNING;
                }
                switch (f.type()) {
                    case ControlFrames.OUT -> out.write(f.data());
                    case ControlFrames.ERR -> err.write(f.data());
                    case ControlFrames.EXIT -> {
                        out.flush();
                        return f.status();
                    }
                    default -> throw new IOException("unknown frame type " + f.type());
                }
            }
        } catch (IOException e) {
            out.flush();
            err.println("dmstack: the connection to " + socket + " failed: " + reason(e));
            return NOT_RUNNING;
        }
    }

    private static String reason(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
