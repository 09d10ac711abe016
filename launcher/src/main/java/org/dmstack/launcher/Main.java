package org.dmstack.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.osgi.framework.FrameworkEvent;

/**
 * The {@code dmstack} command.
 *
 * <pre>
 * dmstack [--config DIR] [--wait SECONDS] [--serve | -c 'COMMANDS' | SCRIPT]
 * </pre>
 *
 * With no commands it opens the interactive Gogo shell; with {@code -c} or a script it runs the
 * commands once the config folder is applied and exits non-zero when one failed; with
 * {@code --serve} it runs until SIGTERM or SIGINT and then shuts down cleanly.
 */
public final class Main {
    static final String USAGE = """
            Usage: dmstack [--config DIR] [--wait SECONDS] [--serve | -c 'COMMANDS' | SCRIPT]
              --config DIR     the folder of declarative configuration (default: the distribution's etc/)
              --wait SECONDS   how long to wait for the config folder to be applied (default: 10)
              -c 'COMMANDS'    run Gogo command lines (separated by ';'), print their output, exit
              SCRIPT           the same for a file of commands
              --serve          no shell: run until SIGTERM or SIGINT, then shut down cleanly
              (nothing)        the interactive Gogo shell
            """;

    private Main() {}

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Path home = home();
        Path config = home.resolve("etc");
        String commands = null;
        boolean serve = false;
        long waitSeconds = 10;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--config" -> config = Path.of(value(args, ++i, a));
                case "--wait" -> waitSeconds = Long.parseLong(value(args, ++i, a));
                case "-c" -> commands = value(args, ++i, a);
                case "--serve" -> serve = true;
                case "-h", "--help" -> {
                    out.print(USAGE);
                    return 0;
                }
                default -> {
                    if (a.startsWith("-") || commands != null) {
                        err.print("dmstack: unexpected argument '" + a + "'\n" + USAGE);
                        return 2;
                    }
                    try {
                        commands = Files.readString(Path.of(a), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        err.println("dmstack: cannot read script " + a + ": " + e.getMessage());
                        return 2;
                    }
                }
            }
        }
        if (serve && commands != null) {
            err.print("dmstack: --serve runs no commands\n" + USAGE);
            return 2;
        }
        if (!Files.isDirectory(config)) {
            err.println("dmstack: the config folder " + config + " does not exist");
            return 2;
        }
        Dmstack stack = Dmstack.start(home.resolve("bundle"), config, null, Map.of());
        Thread hook = new Thread(() -> {
            try {
                stack.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "dmstack-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        List<String> missing = stack.awaitSettled(Duration.ofSeconds(waitSeconds));
        for (String m : missing) err.println("dmstack: warning: " + m);
        if (commands != null) {
            String error = stack.execute(commands, System.in, out, err);
            out.flush();
            if (error != null) err.println(error);
            Runtime.getRuntime().removeShutdownHook(hook);
            stack.close();
            return error == null ? 0 : 1;
        }
        if (serve) {
            err.println("dmstack: serving the stack from " + config.toAbsolutePath() + "; stop with Ctrl-C or SIGTERM");
        } else {
            stack.startConsole();
        }
        // Until the console's "exit", or a signal whose shutdown hook stops the framework.
        FrameworkEvent event = stack.framework().waitForStop(0);
        if (event.getType() == FrameworkEvent.ERROR) {
            err.println("dmstack: the framework stopped with an error: " + event.getThrowable());
            return 1;
        }
        return 0;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException("dmstack: " + option + " needs a value\n" + USAGE);
        return args[i];
    }

    /** The distribution folder: -Ddmstack.home, else the folder above the launcher's lib/. */
    static Path home() throws URISyntaxException {
        String h = System.getProperty("dmstack.home");
        if (h != null) return Path.of(h);
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return jar.getParent().getParent();
    }
}
