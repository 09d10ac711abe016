package org.dmstack.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.osgi.framework.FrameworkEvent;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The {@code dmstack} command: starts the stack of a config folder and then opens the interactive
 * shell, runs commands ({@code -c}, a script), serves until a signal ({@code --serve}), or runs a
 * program against it and exits with that program's status ({@code --run}); {@code dmstack ctl}
 * runs commands in an instance that is already running. Argument errors print one line and the
 * usage and exit 2.
 */
@Command(name = "dmstack", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, subcommands = Main.Ctl.class,
        sortOptions = false, usageHelpWidth = 120,
        description = "Runs the dmstack block stack declared in a config folder.",
        footer = {"", "With neither --serve, --run, -c nor SCRIPT: the interactive shell. A running instance (--serve, --run, the",
            "shell) listens on its control socket, where 'dmstack ctl -c COMMANDS' runs commands in it.", "",
            "Exit status: 0; a failed command's, as its Linux tool gives it (1, lsblk's 32 or 64, ndctl's 129), or 1 with",
            "--strict when a config file was refused; 2 for a wrong command line; with --run, the program's status."})
public final class Main implements Callable<Integer> {
    /** The control socket when neither --socket nor this variable says otherwise: the distribution's data/dmstack.sock. */
    static final String SOCKET_VARIABLE = "DMSTACK_SOCKET";

    @Option(names = "--config", paramLabel = "DIR", description = "the config folder (default: the distribution's etc/)")
    Path config;

    @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "10",
            description = "how long to wait for the config folder to be applied before going on (default: ${DEFAULT-VALUE})")
    long waitSeconds;

    @Option(names = "--socket", paramLabel = "PATH", description = "the control socket (default: $DMSTACK_SOCKET, else data/dmstack.sock of the distribution)")
    Path socket;

    @Option(names = "--strict", description = "exit with status 1 when a config file was refused at start, instead of going on without it")
    boolean strict;

    @Option(names = "-c", paramLabel = "COMMANDS", description = "run shell command lines (';' or new lines between them), print their output, exit")
    String commands;

    @Parameters(arity = "0..1", paramLabel = "SCRIPT", description = "the same for a file of commands")
    Path script;

    @Option(names = "--serve", description = "no shell: run until SIGTERM or SIGINT, then shut down cleanly")
    boolean serve;

    @Option(names = "--run", paramLabel = "CMD",
            description = "serve, run CMD with /bin/sh (with $uri, $nbd and $port of the NBD export, and $DMSTACK_SOCKET), then shut down and exit with CMD's status")
    String run;

    @Option(names = "--attach", description = "run -c COMMANDS or SCRIPT in the running instance (as 'dmstack ctl')")
    boolean attach;

    @Spec
    CommandSpec spec;

    /** The streams a command reads and prints to (the process's, or a test's). */
    record Streams(PrintStream out, PrintStream err, InputStream in) {}

    private final PrintStream out;
    private final PrintStream err;
    private final InputStream in;

    Main(Streams io) {
        this.out = io.out();
        this.err = io.err();
        this.in = io.in();
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.in));
    }

    static int run(String[] args, PrintStream out, PrintStream err, InputStream in) {
        Streams io = new Streams(out, err, in);
        CommandLine cl = new CommandLine(new Main(io), new Factory(io));
        cl.setExpandAtFiles(false);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("dmstack: " + e.getMessage());
            e.getCommandLine().usage(err);
            return CommandLine.ExitCode.USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, parsed) -> {
            err.println("dmstack: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return CommandLine.ExitCode.SOFTWARE;
        });
        int status = cl.execute(args);
        out.flush();
        return status;
    }

    @Override
    public Integer call() throws Exception {
        if (attach) {
            if (serve || run != null || config != null || strict) throw usage("--attach takes only --socket, -c COMMANDS or SCRIPT");
            return ControlClient.run(socket(socket), commandText(commands, script, in, spec), out, err);
        }
        if (run != null) serve = true;
        if (serve && (commands != null || script != null)) throw usage("--serve and --run run no shell commands (-c, SCRIPT): use 'dmstack ctl' on the running instance");
        String text = commands != null || script != null ? commandText(commands, script, in, spec) : null;
        Path home = home();
        Path folder = config != null ? config : home.resolve("etc");
        if (!Files.isDirectory(folder)) throw usage("the config folder " + folder + " does not exist");
        Path control = socket(socket);
        if (text == null) ControlServer.checkFree(control);

        // The interactive shell's profile: Gogo's, then the completion of dmstack's commands.
        Map<String, String> properties = Map.of("gosh.home", home.resolve("conf").resolve("gogo").toString());
        Dmstack stack = Dmstack.start(home.resolve("bundle"), folder, null, properties);
        Instance instance = new Instance(stack);
        Thread hook = new Thread(instance::close, "dmstack-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        List<String> missing = stack.awaitSettled(Duration.ofSeconds(waitSeconds));
        for (String m : missing) err.println("dmstack: warning: " + m);
        List<String> refused = stack.refused();
        if (strict && !refused.isEmpty()) {
            for (String r : refused) err.println("dmstack: --strict: refused at start: " + r);
            return instance.exit(hook, 1);
        }
        if (text != null) {
            Dmstack.Failure failure = stack.execute(text, in, out, err);
            out.flush();
            if (failure != null) err.println(failure.message());
            return instance.exit(hook, failure == null ? 0 : failure.status());
        }
        instance.control = ControlServer.start(stack::execute, control);
        if (run != null) {
            instance.captive = Captive.start(run, Captive.environment(stack.nbdAddress(), control, err));
            return instance.exit(hook, instance.captive.waitFor());
        }
        if (serve) {
            err.println("dmstack: serving the stack from " + folder.toAbsolutePath() + " (control socket " + control + "); stop with Ctrl-C or SIGTERM");
        } else {
            out.print(Greeting.text(version(), stack, control));
            out.flush();
            stack.startConsole();
        }
        // Until the console's "exit", or a signal whose shutdown hook stops the framework.
        FrameworkEvent event = stack.framework().waitForStop(0);
        instance.close();
        if (event.getType() == FrameworkEvent.ERROR) {
            err.println("dmstack: the framework stopped with an error: " + event.getThrowable());
            return 1;
        }
        return 0;
    }

    /** What runs while dmstack does, stopped in order: the program, the control socket, the framework. */
    private static final class Instance {
        final Dmstack stack;
        volatile ControlServer control;
        volatile Captive captive;

        Instance(Dmstack stack) {
            this.stack = stack;
        }

        synchronized void close() {
            if (captive != null) captive.destroy();
            if (control != null) control.close();
            try {
                stack.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        int exit(Thread hook, int status) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // A signal came first: the hook is stopping everything already.
            }
            close();
            return status;
        }
    }

    /** {@code dmstack ctl}: commands for an instance that is running. */
    @Command(name = "ctl", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false, usageHelpWidth = 120,
            description = "Runs shell command lines in the running dmstack and prints their output.",
            footer = {"", "Exit status: 0; a failed command's, as its Linux tool gives it (1, lsblk's 32 or 64, ...); 2 for a wrong command line;", "3 when no instance answers."})
    static final class Ctl implements Callable<Integer> {
        @Option(names = "--socket", paramLabel = "PATH", description = "the instance's control socket (default: $DMSTACK_SOCKET, else data/dmstack.sock of the distribution)")
        Path socket;

        @Option(names = "-c", paramLabel = "COMMANDS", description = "the command lines (';' or new lines between them)")
        String commands;

        @Parameters(arity = "0..1", paramLabel = "SCRIPT", description = "a file of commands ('-': standard input, the default without -c)")
        Path script;

        @Spec
        CommandSpec spec;

        private final Streams io;

        Ctl(Streams io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            Path source = commands == null && script == null ? Path.of("-") : script;
            return ControlClient.run(socket(socket), commandText(commands, source, io.in(), spec), io.out(), io.err());
        }
    }

    /** Gives the commands the streams they print to. */
    private record Factory(Streams io) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            if (type == Ctl.class) return type.cast(new Ctl(io));
            return CommandLine.defaultFactory().create(type);
        }
    }

    private static String commandText(String commands, Path script, InputStream in, CommandSpec spec) {
        if (commands != null && script != null) throw new ParameterException(spec.commandLine(), "give either -c COMMANDS or SCRIPT, not both");
        if (commands != null) return commands;
        try {
            if (script.toString().equals("-")) return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return Files.readString(script, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read the script " + script + ": " + reason(e));
        }
    }

    private static String reason(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) return "No such file or directory";
        if (e instanceof java.nio.charset.CharacterCodingException) return "not UTF-8 text";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** --socket, else $DMSTACK_SOCKET, else the distribution's data/dmstack.sock. */
    static Path socket(Path option) throws URISyntaxException {
        if (option != null) return option.toAbsolutePath();
        String env = System.getenv(SOCKET_VARIABLE);
        if (env != null && !env.isEmpty()) return Path.of(env).toAbsolutePath();
        return home().resolve("data").resolve("dmstack.sock");
    }

    /** The distribution folder: -Ddmstack.home, else the folder above the launcher's lib/. */
    static Path home() throws URISyntaxException {
        String h = System.getProperty("dmstack.home");
        if (h != null) return Path.of(h);
        Path jar = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return jar.getParent().getParent();
    }

    /** dmstack's version, from the build. */
    static String version() {
        Properties p = new Properties();
        try (InputStream s = Main.class.getResourceAsStream("version.properties")) {
            if (s != null) p.load(s);
        } catch (IOException e) {
            // the version stays unknown
        }
        return p.getProperty("version", "unknown");
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"dmstack " + version()};
        }
    }
}
