package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.dmstack.block.BlockDevice;

/**
 * What dm costs per bio, in CPU nanoseconds: a ring of 32 bios in flight ({@link PairedRatios}'s
 * ring, as an io_uring program keeps them) through dm-linear and dm-stripe x2, each beside brd
 * directly on the very disks it maps (each bio addressed where dm puts it), all stacks built in one
 * JVM so the call sites see every target, all over the same 32 buffers, the sides taking turns in
 * rounds of {@code bios} bios (forwards, then backwards). A stack's cost is the median over the rounds of its ns per bio minus
 * its disks' in the same round: noise that outlasts a round moves both.
 *
 * <p>Hot by default: bios of 512 bytes on a 4 MiB disk, so the copy is a cache hit and dm's fixed
 * cost stands out. Cold, where the goals are judged: {@code BioCallCost 4096} with
 * {@code -Ddmstack.bench.callDeviceMiB=256}, a 4 KiB bio at a random page of 256 MiB.
 *
 * <p>With {@code -Ddmstack.bench.sync=true}, one bio at a time instead of the ring: each submitted,
 * then awaited, as {@link PairedRatios}'s one-thread pairs send them (and the goal's row is judged):
 * no batch, so dm's in-flight count pays its fence on every bio.
 *
 * <p>Two builds, with {@code -Ddmstack.bench.builds=CLASSPATH|CLASSPATH} (each a class path of
 * this module's classes and a build's jars, a trailing {@code *} taking a folder's jars): each build
 * is loaded in a class loader of its own and its stacks join the same turns, so a change is
 * measured against its baseline in one process, round by round, whatever else the machine runs.
 * The last line per stack is the second build's cost minus the first's, the median of the rounds.
 *
 * <pre>
 * BioCallCost [SIZE [read|write]]   -Ddmstack.bench.callDeviceMiB=4 -Ddmstack.bench.layers=LINEAR,STRIPE2 -Ddmstack.bench.rounds=21 -Ddmstack.bench.sync=false
 * </pre>
 */
final class BioCallCost {
    private BioCallCost() {}

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        boolean write = args.length > 1 && args[1].equals("write");
        String[] layers = System.getProperty("dmstack.bench.layers", "LINEAR,STRIPE2").split(",");
        long device = Long.getLong("dmstack.bench.callDeviceMiB", 4) << 20;
        int rounds = Integer.getInteger("dmstack.bench.rounds", 21);
        int bios = Integer.getInteger("dmstack.bench.bios", device > 64 << 20 ? 100_000 : 200_000);
        String builds = System.getProperty("dmstack.bench.builds");
        if (builds != null) {
            for (String line : twoBuilds(builds.split("\\|"), layers, device, size, write, rounds, bios)) System.out.println(line);
            return;
        }
        for (Cost c : measure(layers, device, size, write, rounds, bios)) System.out.println(c.line());
    }

    /**
     * For another class loader: each of {@code layers} as two sides, its disks directly and the
     * stack, in JDK types only ({@code [AutoCloseable, LongSupplier[]]}).
     */
    public static Object[] sides(String[] layers, long deviceBytes, MemorySegment[] buffers, boolean write) {
        List<Stacks.BioStack> stacks = new ArrayList<>();
        List<java.util.function.LongSupplier> sides = new ArrayList<>();
        for (String layer : layers) {
            Stacks.BioStack stack = new Stacks.BioStack(Stacks.Layer.valueOf(layer), deviceBytes);
            stacks.add(stack);
            for (PairedRatios.Op op : pair(stack, layer, buffers, write)) sides.add(op::run);
        }
        AutoCloseable close = () -> stacks.forEach(Stacks.BioStack::close);
        return new Object[] {close, sides.toArray(java.util.function.LongSupplier[]::new)};
    }

    /** A stack's two sides: its disks, each bio addressed where the stack puts it, and the stack itself. */
    private static PairedRatios.Op[] pair(Stacks.BioStack stack, String layer, MemorySegment[] buffers, boolean write) {
        int n = Stacks.Layer.valueOf(layer).devices();
        BlockDevice[] disks = new BlockDevice[n];
        for (int i = 0; i < n; i++) disks[i] = stack.registry.lookup("ram" + i);
        PairedRatios.Disks direct = new PairedRatios.Disks(disks, n == 1 ? 0 : Stacks.STRIPE_CHUNK_SECTORS);
        PairedRatios.Disks self = new PairedRatios.Disks(new BlockDevice[] {stack.device}, 0);
        if (Boolean.getBoolean("dmstack.bench.sync")) return new PairedRatios.Op[] {syncOp(direct, write, buffers[0]), syncOp(self, write, buffers[0])};
        return new PairedRatios.Op[] {PairedRatios.ringOp(direct, write, buffers), PairedRatios.ringOp(self, write, buffers)};
    }

    /** One bio at a random place aligned to its size, submitted and awaited, over {@code buffer}. */
    private static PairedRatios.Op syncOp(PairedRatios.Disks disks, boolean write, MemorySegment buffer) {
        int shift = Integer.numberOfTrailingZeros((int) buffer.byteSize() >> 9);
        long pages = disks.capacity() >> shift;
        SplittableRandom random = new SplittableRandom(42);
        return () -> {
            long sector = random.nextLong(pages) << shift;
            disks.io(sector, buffer, write);
            return sector;
        };
    }

    /** Both builds' stacks in the same turns: each build's costs, then the second's minus the first's per stack. */
    static List<String> twoBuilds(String[] classPaths, String[] layers, long deviceBytes, int size, boolean write, int rounds, int bios) {
        if (classPaths.length != 2) throw new IllegalArgumentException("dmstack.bench.builds takes two class paths, not " + classPaths.length);
        List<AutoCloseable> closers = new ArrayList<>();
        List<PairedRatios.Op> sides = new ArrayList<>();
        MemorySegment[] buffers = PairedRatios.ringBuffers(size); // every side's, both builds'
        try {
            for (String cp : classPaths) {
                java.lang.reflect.Method open = loader(cp).loadClass(BioCallCost.class.getName())
                        .getMethod("sides", String[].class, long.class, MemorySegment[].class, boolean.class);
                open.setAccessible(true); // a package-private class, in the other loader's package
                Object[] built = (Object[]) open.invoke(null, layers, deviceBytes, buffers, write);
                closers.add((AutoCloseable) built[0]);
                for (java.util.function.LongSupplier side : (java.util.function.LongSupplier[]) built[1]) sides.add(side::getAsLong);
            }
            double[][] ns = turns(sides.toArray(PairedRatios.Op[]::new), rounds, bios);
            String what = (write ? "write " : "read ") + size + " B on " + Stacks.human(deviceBytes);
            List<String> out = new ArrayList<>();
            int per = 2 * layers.length;
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < layers.length; i++) out.add("build " + (b + 1) + " " + cost(layers[i], what, ns[b * per + 2 * i], ns[b * per + 2 * i + 1]).line());
            }
            for (int i = 0; i < layers.length; i++) {
                double[] change = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    change[r] = (ns[per + 2 * i + 1][r] - ns[per + 2 * i][r]) - (ns[2 * i + 1][r] - ns[2 * i][r]);
                }
                Arrays.sort(change);
                out.add(String.format(Locale.ROOT, "%-8s %s: build 2 minus build 1 %+.1f ns/bio (%+.1f to %+.1f)", layers[i], what,
                        PairedRatios.quantile(change, 0.5), PairedRatios.quantile(change, 0.25), PairedRatios.quantile(change, 0.75)));
            }
            return out;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load a build: " + e, e);
        } finally {
            for (AutoCloseable c : closers) {
                try {
                    c.close();
                } catch (Exception e) {
                    System.err.println("closing a build's stacks: " + e);
                }
            }
        }
    }

    /** A class loader of its own over {@code classPath} (entries split by ':'; {@code dir/*} is the folder's jars). */
    private static ClassLoader loader(String classPath) {
        List<java.net.URL> urls = new ArrayList<>();
        try {
            for (String entry : classPath.split(":")) {
                if (entry.endsWith("/*")) {
                    java.io.File[] jars = new java.io.File(entry.substring(0, entry.length() - 2)).listFiles((d, n) -> n.endsWith(".jar"));
                    if (jars == null) throw new IllegalArgumentException("no folder " + entry);
                    Arrays.sort(jars);
                    for (java.io.File jar : jars) urls.add(jar.toURI().toURL());
                } else {
                    urls.add(new java.io.File(entry).toURI().toURL());
                }
            }
        } catch (java.net.MalformedURLException e) {
            throw new IllegalArgumentException(classPath + ": " + e.getMessage(), e);
        }
        return new java.net.URLClassLoader(urls.toArray(java.net.URL[]::new), ClassLoader.getPlatformClassLoader());
    }

    /** A stack's figures: its disks' ns per bio and its own (medians of the rounds), and its excess over them with the quartiles. */
    record Cost(String layer, String what, double direct, double stack, double excess, double q1, double q3) {
        String line() {
            return String.format(Locale.ROOT, "%-8s %s: DIRECT %.1f, %s %.1f ns/bio: dm %+.1f (%+.1f to %+.1f)", layer, what, direct, layer,
                    stack, excess, q1, q3);
        }
    }

    /**
     * Each of {@code layers} (dm stacks over brd) beside its own disks, {@code rounds} rounds of
     * {@code bios} bios of {@code size} bytes each, on devices of {@code deviceBytes}.
     */
    static List<Cost> measure(String[] layers, long deviceBytes, int size, boolean write, int rounds, int bios) {
        List<Stacks.BioStack> stacks = new ArrayList<>();
        MemorySegment[] buffers = PairedRatios.ringBuffers(size); // every side's
        try {
            List<PairedRatios.Op> sides = new ArrayList<>();
            for (String layer : layers) {
                Stacks.BioStack stack = new Stacks.BioStack(Stacks.Layer.valueOf(layer), deviceBytes);
                stacks.add(stack);
                sides.addAll(List.of(pair(stack, layer, buffers, write)));
            }
            double[][] ns = turns(sides.toArray(PairedRatios.Op[]::new), rounds, bios);
            String what = (write ? "write " : "read ") + size + " B on " + Stacks.human(deviceBytes);
            List<Cost> out = new ArrayList<>();
            for (int i = 0; i < layers.length; i++) out.add(cost(layers[i], what, ns[2 * i], ns[2 * i + 1]));
            return out;
        } finally {
            for (Stacks.BioStack s : stacks) s.close();
        }
    }

    /** {@code stack}'s rounds beside {@code direct}'s: the medians of each, and of the per-round differences with their quartiles. */
    static Cost cost(String layer, String what, double[] direct, double[] stack) {
        double[] excess = new double[stack.length];
        for (int r = 0; r < stack.length; r++) excess[r] = stack[r] - direct[r];
        Arrays.sort(excess);
        return new Cost(layer, what, median(direct), median(stack), PairedRatios.quantile(excess, 0.5), PairedRatios.quantile(excess, 0.25),
                PairedRatios.quantile(excess, 0.75));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return PairedRatios.quantile(sorted, 0.5);
    }

    /**
     * CPU ns per bio of each side in each round ({@code [side][round]}), the sides taking turns
     * (forwards, then backwards) after five rounds of warm-up and a full collection.
     */
    static double[][] turns(PairedRatios.Op[] sides, int rounds, int bios) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int w = 0; w < 5; w++) for (PairedRatios.Op side : sides) run(side, bios);
        // Every stack's objects old, as in a daemon that has run a while: G1 fences a reference
        // stored into an old object and not one stored into a young one, and without this the
        // stacks built last (still young) measured 15 ns per bio cheaper than the same code built first.
        System.gc();
        double[][] ns = new double[sides.length][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < sides.length; k++) {
                int i = r % 2 == 0 ? k : sides.length - 1 - k;
                long start = threads.getCurrentThreadCpuTime();
                run(sides[i], bios);
                ns[i][r] = (threads.getCurrentThreadCpuTime() - start) / (double) bios;
            }
        }
        return ns;
    }

    private static void run(PairedRatios.Op side, int bios) {
        long acc = 0;
        for (int i = 0; i < bios; i++) acc += side.run();
        PairedRatios.sink += acc;
    }
}
