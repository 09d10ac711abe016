package org.dmstack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.dmstack.launcher.Dmstack;
import org.junit.jupiter.api.Assertions;
import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.FrameworkWiring;

/** A dmstack framework for one test: the real bundles, a config folder, commands and waits. */
final class ItStack implements AutoCloseable {
    static final Path BUNDLES = Path.of(System.getProperty("dmstack.it.bundles", "target/bundles"));
    private static long clock = System.currentTimeMillis();

    final Dmstack dmstack;
    final Path config;
    private Inside inside;

    private ItStack(Dmstack dmstack, Path config) {
        this.dmstack = dmstack;
        this.config = config;
    }

    /** Starts a framework watching {@code config} and waits until the folder is applied (or 10 s). */
    static ItStack start(Path config) throws Exception {
        ItStack s = new ItStack(Dmstack.start(BUNDLES, config, null, Map.of()), config);
        s.dmstack.awaitSettled(Duration.ofSeconds(10));
        return s;
    }

    /** Writes a config file atomically, with a new modification time, as an editor would. */
    void write(String name, String text) throws IOException {
        Path tmp = config.resolve("." + name + ".tmp");
        Files.writeString(tmp, text);
        synchronized (ItStack.class) {
            clock = Math.max(clock + 2000, System.currentTimeMillis());
            Files.setLastModifiedTime(tmp, FileTime.fromMillis(clock));
        }
        Files.move(tmp, config.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    void delete(String name) throws IOException {
        Files.delete(config.resolve(name));
    }

    /** Runs Gogo command lines that must succeed; returns their output. */
    String run(String commands) {
        Dmstack.Result r = dmstack.execute(commands);
        if (!r.ok()) Assertions.fail("'" + commands + "' failed: " + r.error() + "\n" + r.out() + r.err());
        return r.out();
    }

    /** Runs command lines that must fail; returns the error. */
    String fail(String commands) {
        Dmstack.Result r = dmstack.execute(commands);
        assertFalse(r.ok(), "'" + commands + "' should have failed but printed:\n" + r.out());
        return r.error();
    }

    /** Waits up to 15 s for {@code condition}. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) Assertions.fail("timed out waiting for " + what);
            Thread.sleep(20);
        }
    }

    /** Waits until {@code command} prints {@code expected}. */
    void awaitOutput(String command, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        String last = "";
        while (true) {
            Dmstack.Result r = dmstack.execute(command);
            last = r.ok() ? r.out() : "error: " + r.error();
            if (last.equals(expected)) return;
            if (System.nanoTime() > deadline) assertEquals(expected, last, "waited 15 s for '" + command + "'");
            Thread.sleep(50);
        }
    }

    Bundle bundle(String symbolicName) {
        Bundle b = dmstack.bundle(symbolicName);
        assertTrue(b != null, symbolicName + " is not installed");
        return b;
    }

    /** The service object of the first service of {@code className}. */
    Object service(String className) throws InterruptedException {
        Object[] found = new Object[1];
        await(className + " service", () -> {
            ServiceReference<?> ref = dmstack.context().getServiceReference(className);
            if (ref != null) found[0] = dmstack.context().getService(ref);
            return found[0] != null;
        });
        return found[0];
    }

    Inside inside() {
        if (inside == null) {
            Bundle pmem = dmstack.bundle("org.dmstack.pmem");
            inside = new Inside(bundle("org.dmstack.core"), pmem);
        }
        return inside;
    }

    /** The linear target type: the dm-linear bundle, started. */
    void ensureLinear() throws Exception {
        bundle("org.dmstack.dm.linear").start();
    }

    /** No linear target type: the dm-linear bundle stopped. */
    void withoutLinear() throws Exception {
        bundle("org.dmstack.dm.linear").stop();
    }

    /**
     * Replaces a bundle by the same jar (Bundle.update), then refreshes what the update left
     * pending, as Gogo's {@code update} then {@code refresh}: Felix refreshes a bundle whose
     * packages no other bundle uses as part of the update, so naming it in a refresh would stop and
     * start it a second time; one whose packages others use (core) is refreshed here, with the
     * bundles wired to it.
     */
    void update(Bundle b, Path jar) throws Exception {
        try (var in = Files.newInputStream(jar)) {
            b.update(in);
        }
        FrameworkWiring wiring = dmstack.context().getBundle(0).adapt(FrameworkWiring.class);
        if (wiring.getRemovalPendingBundles().isEmpty()) return;
        CountDownLatch done = new CountDownLatch(1);
        wiring.refreshBundles(null, e -> done.countDown());
        done.await();
    }

    /** The config folder's state of a table file's device: "active", "pending: ...", "rejected: ...". */
    String tableState(String name) {
        ServiceReference<?> ref = dmstack.context().getServiceReference("org.dmstack.config.ConfigFolderStatus");
        if (ref == null) return "no config folder service";
        if (ref.getProperty("dmstack.config.tables") instanceof String[] states) {
            for (String s : states) if (s.startsWith(name + ": ")) return s.substring(name.length() + 2);
        }
        return "unknown";
    }

    void awaitTableState(String name, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!tableState(name).equals(expected)) {
            if (System.nanoTime() > deadline) assertEquals(expected, tableState(name), "waited 15 s for the state of " + name + ".table");
            Thread.sleep(20);
        }
    }

    /** Starts a framework and registers the stand-in linear target type as soon as core is up. */
    static ItStack startWithLinear(Path config) throws Exception {
        ItStack s = new ItStack(Dmstack.start(BUNDLES, config, null, Map.of()), config);
        await("the core bundle", () -> s.dmstack.bundle("org.dmstack.core") != null && s.dmstack.bundle("org.dmstack.core").getState() == Bundle.ACTIVE);
        s.ensureLinear();
        s.dmstack.awaitSettled(Duration.ofSeconds(10));
        return s;
    }

    /** The jar of a bundle in the bundle folder. */
    static Path jar(String prefix) throws IOException {
        try (var s = Files.list(BUNDLES)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst().orElseThrow();
        }
    }

    @Override
    public void close() throws Exception {
        dmstack.close();
    }
}
