package org.dmstack.launcher;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.felix.framework.FrameworkFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.wiring.BundleWiring;

/**
 * dmstack running in an embedded Felix framework: every bundle of a folder installed and
 * started in layers (start levels), the config folder watched by FileInstall, and Gogo command
 * lines run through the command processor. The launcher's {@link Main} and the integration
 * tests both use it; it shares no classes with the bundles (it reaches Gogo by reflection and
 * the config folder's progress through service properties).
 *
 * <p>Start levels: 1 the OSGi services, logging and Gogo; 2 core and the drivers; 3 targets,
 * shell, config folder and exports; 4 FileInstall, so the config folder is read once everything
 * that handles it is there. Stopping goes the other way round.
 */
public final class Dmstack implements AutoCloseable {
    /** The symbolic name of the interactive console; started only by {@link #startConsole()}. */
    public static final String CONSOLE_BUNDLE = "org.apache.felix.gogo.jline";
    private static final String STATUS_SERVICE = "org.dmstack.config.ConfigFolderStatus";
    private static final Pattern HANDLED = Pattern.compile("[^.].*\\.table|(brd|dm|nbd)\\.cfg|(pmem|nfit)-.+\\.cfg");

    private final Framework framework;
    private final Path config;
    private final Path storage;
    private final boolean ownStorage;
    private final AtomicLong lastEvent = new AtomicLong(System.nanoTime());
    private final List<ServiceRegistration<?>> standardCommands = new ArrayList<>();
    private boolean standardCommandsDone;

    /** The result of a command line: what it printed, and the error when it failed. */
    public record Result(String out, String err, String error, int status) {
        public boolean ok() {
            return error == null;
        }
    }

    /**
     * A command line that failed: what it says (printed once, by whoever ran it) and the exit
     * status the Linux tool gives for that failure (1 when the command does not say).
     */
    public record Failure(String message, int status) {}

    private Dmstack(Framework framework, Path config, Path storage, boolean ownStorage) {
        this.framework = framework;
        this.config = config;
        this.storage = storage;
        this.ownStorage = ownStorage;
    }

    /**
     * Starts a framework with every bundle in {@code bundles}, watching {@code config}.
     *
     * @param storage the framework's bundle cache (cleaned first), or null for a temporary one
     *     removed on close
     * @param properties extra framework properties (they win over the defaults)
     */
    public static Dmstack start(Path bundles, Path config, Path storage, Map<String, String> properties) throws IOException, BundleException {
        boolean own = storage == null;
        Path cache = own ? Files.createTempDirectory("dmstack-felix") : storage;
        Files.createDirectories(config);
        Map<String, String> p = new HashMap<>();
        p.put(Constants.FRAMEWORK_STORAGE, cache.toString());
        p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        p.put(Constants.FRAMEWORK_BEGINNING_STARTLEVEL, "4");
        p.put("felix.fileinstall.dir", config.toAbsolutePath().toString());
        p.put("felix.fileinstall.noInitialDelay", "true");
        p.put("felix.fileinstall.poll", "200");
        p.put("felix.fileinstall.filter", "[^.].*\\.(table|cfg|config)");
        p.put("felix.fileinstall.enableConfigSave", "false");
        p.put("felix.fileinstall.log.level", "2");
        p.put("felix.fileinstall.start.level", "4");
        // SCR prints an activation failure's stack trace on the console; the config folder reports
        // such failures in one line instead (the trace in the log file at DEBUG).
        p.put("ds.log.enabled", "false");
        // Felix resolves on the thread that asks (a bundle update's), not on a pool it hands the
        // work to and waits for: while a driver is updated its devices' I/O is held, and on a busy
        // machine each hand-off waited for a core (HotSwapIT: the update's longest stall).
        p.put("felix.resolver.parallelism", "1");
        p.putAll(properties);
        Framework fw = new FrameworkFactory().newFramework(p);
        fw.init();
        Dmstack d = new Dmstack(fw, config.toAbsolutePath(), cache, own);
        BundleContext ctx = fw.getBundleContext();
        ctx.addServiceListener(e -> d.lastEvent.set(System.nanoTime()));
        ctx.addBundleListener(e -> d.lastEvent.set(System.nanoTime()));
        List<Bundle> installed = new ArrayList<>();
        List<Path> jars;
        try (Stream<Path> s = Files.list(bundles)) {
            jars = s.filter(f -> f.toString().endsWith(".jar")).sorted().toList();
        }
        for (Path jar : jars) installed.add(ctx.installBundle(jar.toUri().toString()));
        for (Bundle b : installed) {
            b.adapt(BundleStartLevel.class).setStartLevel(startLevel(b.getSymbolicName()));
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (!fragment && !CONSOLE_BUNDLE.equals(b.getSymbolicName())) b.start();
        }
        fw.start();
        return d;
    }

    /** Which layer a bundle starts in (see the class comment). */
    static int startLevel(String symbolicName) {
        if (symbolicName == null) return 1;
        if (symbolicName.equals("org.apache.felix.fileinstall")) return 4;
        if (symbolicName.equals("org.dmstack.core") || symbolicName.startsWith("org.dmstack.brd") || symbolicName.startsWith("org.dmstack.pmem")
                || symbolicName.startsWith("org.dmstack.nfit") || symbolicName.equals("org.dmstack.nbd.driver")
                || symbolicName.equals("org.dmstack.nbd.protocol")) {
            return 2;
        }
        if (symbolicName.startsWith("org.dmstack.")) return 3;
        return 1;
    }

    public Framework framework() {
        return framework;
    }

    public BundleContext context() {
        return framework.getBundleContext();
    }

    public Path config() {
        return config;
    }

    /** The installed bundle with this symbolic name, or null. */
    public Bundle bundle(String symbolicName) {
        for (Bundle b : context().getBundles()) if (symbolicName.equals(b.getSymbolicName())) return b;
        return null;
    }

    /**
     * Waits until the config folder has been applied: the framework has reached its start level,
     * every file the config folder handles has been seen, no table is pending, and no service or
     * bundle has come or gone for a moment. Returns what is still missing when {@code timeout}
     * ran out first (pending tables with their reasons, unseen files); empty when all is applied.
     */
    public List<String> awaitSettled(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> missing;
        for (;;) {
            missing = missing();
            boolean quiet = System.nanoTime() - lastEvent.get() > Duration.ofMillis(300).toNanos();
            if (missing.isEmpty() && quiet) return List.of();
            if (System.nanoTime() > deadline) return missing;
            Thread.sleep(50);
        }
    }

    private List<String> missing() {
        List<String> missing = new ArrayList<>();
        if (framework.getState() != Bundle.ACTIVE) {
            missing.add("the framework is not active yet");
            return missing;
        }
        ServiceReference<?> ref = context().getServiceReference(STATUS_SERVICE);
        if (ref == null) {
            missing.add("the config folder service (org.dmstack.config) is not running");
            return missing;
        }
        List<String> seen = Arrays.asList(strings(ref.getProperty("dmstack.config.files")));
        try (Stream<Path> s = Files.list(config)) {
            for (Path f : s.sorted().toList()) {
                if (HANDLED.matcher(f.getFileName().toString()).matches() && !seen.contains(f.toString())) {
                    missing.add(f.getFileName() + ": not read yet");
                }
            }
        } catch (IOException e) {
            missing.add(config + ": " + e.getMessage());
        }
        for (String p : strings(ref.getProperty("dmstack.config.pending"))) missing.add(p.replaceFirst(": ", ".table is pending: "));
        return missing;
    }

    private static String[] strings(Object o) {
        return o instanceof String[] a ? a : new String[0];
    }

    /**
     * The config files refused at start or since, one line each ("brd.cfg: rd_nr must be a whole
     * number..."), as the config folder reports them; empty when none was.
     */
    public List<String> refused() {
        ServiceReference<?> ref = context().getServiceReference(STATUS_SERVICE);
        return ref == null ? List.of() : List.of(strings(ref.getProperty("dmstack.config.refused")));
    }

    /** Where the NBD export listens, or null when no NBD server runs. */
    public InetSocketAddress nbdAddress() {
        ServiceReference<?> ref = context().getServiceReference("org.dmstack.nbd.server.NbdServer");
        if (ref == null || !(ref.getProperty("nbd.host") instanceof String host) || !(ref.getProperty("nbd.port") instanceof Integer port)) return null;
        return new InetSocketAddress(host, port);
    }

    /** The block devices by name, a mapped device with its dm name ("fast (dm-0)"); empty while core is not running. */
    public List<String> devices() {
        List<String> names = new ArrayList<>();
        Object registry = service("org.dmstack.block.BlockDeviceRegistry");
        Object dm = service("org.dmstack.dm.DeviceMapper");
        try {
            Map<String, String> mapped = new HashMap<>();
            if (dm != null) {
                for (Object md : (List<?>) call(dm, "devices")) mapped.put((String) call(call(md, "disk"), "name"), (String) call(md, "name"));
            }
            if (registry != null) {
                for (Object d : (List<?>) call(registry, "devices")) {
                    String name = (String) call(d, "name");
                    names.add(mapped.containsKey(name) ? mapped.get(name) + " (" + name + ")" : name);
                }
            }
        } catch (ReflectiveOperationException | ClassCastException e) {
            // a core of another shape: the devices stay unnamed
        }
        return names;
    }

    private Object service(String className) {
        ServiceReference<?> ref = context().getServiceReference(className);
        return ref == null ? null : context().getService(ref);
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        Method m = target.getClass().getMethod(method);
        m.setAccessible(true);
        return m.invoke(target);
    }

    /** Runs Gogo command lines (statements separated by ';' or new lines), capturing their output. */
    public Result execute(String commands) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Failure failure;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            failure = execute(commands, new ByteArrayInputStream(new byte[0]), o, e);
        }
        return new Result(out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                failure == null ? null : failure.message(), failure == null ? 0 : failure.status());
    }

    /** Runs Gogo command lines with the given streams; returns null, or how the command that failed failed. */
    public Failure execute(String commands, InputStream in, PrintStream out, PrintStream err) {
        ServiceReference<?> ref = context().getServiceReference("org.apache.felix.service.command.CommandProcessor");
        if (ref == null) return new Failure("the Gogo command processor is not running", 1);
        Object processor = context().getService(ref);
        try {
            registerStandardCommands(processor);
            Bundle gogo = ref.getBundle();
            Class<?> processorType = gogo.loadClass("org.apache.felix.service.command.CommandProcessor");
            Class<?> sessionType = gogo.loadClass("org.apache.felix.service.command.CommandSession");
            Object session = processorType.getMethod("createSession", InputStream.class, OutputStream.class, OutputStream.class).invoke(processor, in, out, err);
            try {
                Object result = sessionType.getMethod("execute", CharSequence.class).invoke(session, commands);
                if (result != null) out.println(result);
                return null;
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                String message = cause.getMessage() != null ? cause.getMessage() : cause.toString();
                return new Failure(message, exitStatus(cause));
            } finally {
                Method close = sessionType.getMethod("close");
                close.invoke(session);
                out.flush();
                err.flush();
            }
        } catch (ReflectiveOperationException e) {
            return new Failure("cannot reach the Gogo command processor: " + e, 1);
        } finally {
            context().ungetService(ref);
        }
    }

    /**
     * The shell's CommandException carries the Linux tool's exit status (lsblk's 32, ndctl's 129);
     * it is read by name, as the launcher sees the shell bundle's classes only through Gogo.
     */
    private static int exitStatus(Throwable cause) {
        try {
            Method m = cause.getClass().getMethod("exitStatus");
            if (m.getReturnType() == int.class) {
                int status = (int) m.invoke(cause);
                if (status > 0 && status < 256) return status;
            }
        } catch (ReflectiveOperationException notTheShells) {
            // Gogo's own errors (command not found, a syntax error) and other exceptions: 1.
        }
        return 1;
    }

    /**
     * Gogo's standard commands (echo, grep, cat, each, if, ...) and its converters (a bundle id
     * for a bundle), which the interactive console registers when it starts: registered here for sessions without it ({@code -c}, the control
     * socket of a server), once, and withdrawn when the console starts.
     */
    private synchronized void registerStandardCommands(Object processor) throws ReflectiveOperationException {
        if (standardCommandsDone) return;
        standardCommandsDone = true;
        Bundle console = bundle(CONSOLE_BUNDLE);
        if (console == null || console.getState() == Bundle.ACTIVE) return;
        for (String name : List.of("Builtin", "Procedural", "Posix")) {
            Class<?> type = console.loadClass("org.apache.felix.gogo.jline." + name);
            Constructor<?> c = type.getConstructors()[0];
            Object commands = c.getParameterCount() == 0 ? c.newInstance() : c.newInstance(processor);
            Field functions = type.getDeclaredField("functions");
            functions.setAccessible(true);
            Hashtable<String, Object> p = new Hashtable<>();
            p.put("osgi.command.scope", "gogo");
            p.put("osgi.command.function", functions.get(null));
            standardCommands.add(context().registerService(type.getName(), commands, p));
        }
        // Turns "12" into bundle 12 for lb, update, start, stop and the other bundle commands.
        Object converters = console.loadClass("org.apache.felix.gogo.jline.Converters").getConstructor(BundleContext.class).newInstance(context());
        standardCommands.add(context().registerService("org.apache.felix.service.command.Converter", converters, null));
    }

    private synchronized void withdrawStandardCommands() {
        standardCommandsDone = true;
        for (ServiceRegistration<?> r : standardCommands) r.unregister();
        standardCommands.clear();
    }

    /**
     * Starts the interactive Gogo console on this process's terminal. JLine must be found through
     * the thread's context class loader, or the console falls back to a dumb terminal.
     */
    public void startConsole() throws BundleException {
        Bundle console = bundle(CONSOLE_BUNDLE);
        if (console == null) throw new BundleException("the interactive console " + CONSOLE_BUNDLE + " is not installed");
        withdrawStandardCommands();
        // Gogo's own profile, for dmstack's (conf/gogo/etc/gosh_profile) to source first.
        java.net.URL profile = console.getEntry("gosh_profile");
        if (profile != null) System.setProperty("dmstack.gosh.profile", profile.toString());
        Bundle jline = bundle("org.jline");
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        try {
            if (jline != null) t.setContextClassLoader(jline.adapt(BundleWiring.class).getClassLoader());
            console.start();
        } finally {
            t.setContextClassLoader(before);
        }
    }

    /** Stops the framework: bundles stop layer by layer, in-flight I/O completes, mappings are closed. */
    @Override
    public void close() throws InterruptedException {
        try {
            framework.stop();
        } catch (BundleException e) {
            // already stopping
        }
        framework.waitForStop(60_000);
        if (ownStorage) deleteTree(storage.toFile());
    }

    private static void deleteTree(File f) {
        File[] children = f.listFiles();
        if (children != null) for (File c : children) deleteTree(c);
        f.delete();
    }
}
