package org.dmstack.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.dmstack.block.BlockDevice;

/**
 * What dm costs per bio, in CPU nanoseconds: a ring of 32 bios in flight ({@link PairedRatios}'s
 * ring, as an io_uring program keeps them) through dm-linear and dm-stripe x2, each beside brd
 * directly on the very disks it maps (each bio addressed where dm puts it), all stacks built in one
 * JVM so the call sites see every target, the sides taking turns in rounds of {@code bios} bios
 * (forwards, then backwards). A stack's cost is the median over the rounds of its ns per bio minus
 * its disks' in the same round: noise that outlasts a round moves both.
 *
 * <p>Hot by default: bios of 512 bytes on a 4 MiB disk, so the copy is a cache hit and dm's fixed
 * cost stands out. Cold, where the goals are judged: {@code BioCallCost 4096} with
 * {@code -Ddmstack.bench.callDeviceMiB=256}, a 4 KiB bio at a random page of 256 MiB.
 *
 * <pre>
 * BioCallCost [SIZE [read|write]]   -Ddmstack.bench.callDeviceMiB=4 -Ddmstack.bench.layers=LINEAR,STRIPE2 -Ddmstack.bench.rounds=21
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
        for (Cost c : measure(layers, device, size, write, rounds, bios)) System.out.println(c.line());
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
        try {
            List<PairedRatios.Op> sides = new ArrayList<>();
            for (String layer : layers) {
                Stacks.BioStack stack = new Stacks.BioStack(Stacks.Layer.valueOf(layer), deviceBytes);
                stacks.add(stack);
                int n = Stacks.Layer.valueOf(layer).devices();
                BlockDevice[] disks = new BlockDevice[n];
                for (int i = 0; i < n; i++) disks[i] = stack.registry.lookup("ram" + i);
                sides.add(PairedRatios.ringOp(new PairedRatios.Disks(disks, n == 1 ? 0 : Stacks.STRIPE_CHUNK_SECTORS), write, size));
                sides.add(PairedRatios.ringOp(new PairedRatios.Disks(new BlockDevice[] {stack.device}, 0), write, size));
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
     * (forwards, then backwards) after five rounds of warm-up.
     */
    static double[][] turns(PairedRatios.Op[] sides, int rounds, int bios) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int w = 0; w < 5; w++) for (PairedRatios.Op side : sides) run(side, bios);
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
