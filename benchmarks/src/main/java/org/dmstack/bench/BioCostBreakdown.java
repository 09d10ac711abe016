package org.dmstack.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDevice;
import org.dmstack.memory.HugeMemory;
import org.dmstack.memory.PageStore;
import org.dmstack.units.Units;

/**
 * Where a 4 KiB read at a random page costs what it costs, layer by layer, in CPU nanoseconds: the
 * same read done by ever more of the stack, the steps taking turns in rounds as
 * {@link BioCallCost}'s sides do, all over the same 32 buffers (a ring's), in one JVM.
 *
 * <ol>
 * <li>{@code raw, 1 buffer}: a copy from a random page of native memory of the device's size,
 *     allocated as brd's ({@link HugeMemory}), into one buffer (BioRingBench's RAW);
 * <li>{@code raw, 32 buffers}: the same into the 32 buffers in turn, as 32 bios in flight have them;
 * <li>{@code page store}: brd's own {@link PageStore} reads the page (its lookup, its optimistic lock);
 * <li>{@code page store + fence}: the same and a full fence after it: what one locked instruction
 *     right after the copy costs, when it must wait for the copy's stores to drain;
 * <li>{@code brd, submit and await}: a bio through the disk's checks and brd, reset and reused;
 * <li>{@code brd, ring of 32}: as {@link PairedRatios}' ring (BioRingBench's DIRECT);
 * <li>{@code dm-linear, ring of 32}: the same through dm-linear over that disk.
 * </ol>
 *
 * Each line gives the median over the rounds with its quartiles, and the step from the step it
 * builds on (the median of the per-round differences): the fence's and submit and await's from the
 * page store, every other from the line before.
 *
 * <pre>
 * BioCostBreakdown [SIZE]   -Ddmstack.bench.callDeviceMiB=256 -Ddmstack.bench.rounds=21 -Ddmstack.bench.bios=100000
 * </pre>
 */
final class BioCostBreakdown {
    private BioCostBreakdown() {}

    static final List<String> STEPS = List.of("raw, 1 buffer", "raw, 32 buffers", "page store", "page store + fence",
            "brd, submit and await", "brd, ring of 32", "dm-linear, ring of 32");
    /** The step each builds on (its index in STEPS), -1 for the first. */
    private static final int[] BASE = {-1, 0, 1, 2, 2, 4, 5};

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        long device = Long.getLong("dmstack.bench.callDeviceMiB", 256) << 20;
        int rounds = Integer.getInteger("dmstack.bench.rounds", 21);
        int bios = Integer.getInteger("dmstack.bench.bios", 100_000);
        System.out.println("read " + size + " B at random places of " + Stacks.human(device) + ", CPU ns per read:");
        for (String line : measure(device, size, rounds, bios)) System.out.println(line);
    }

    /** The steps' lines: median (quartiles), and the step from the one before. */
    static List<String> measure(long deviceBytes, int size, int rounds, int bios) {
        try (Arena arena = Arena.ofShared(); Stacks.BioStack stack = new Stacks.BioStack(Stacks.Layer.LINEAR, deviceBytes)) {
            long places = deviceBytes / size;
            long huge = HugeMemory.HUGE_PAGE_SIZE;
            MemorySegment raw = HugeMemory.allocate(arena, (deviceBytes + huge - 1) / huge * huge).fill((byte) 0x5a);
            MemorySegment[] buffers = PairedRatios.ringBuffers(size);
            BlockDevice disk = stack.registry.lookup("ram0");
            PageStore store = stack.pool.get(stack.pool.keys("").getFirst());
            Bio[] bios32 = new Bio[buffers.length];
            for (int i = 0; i < bios32.length; i++) {
                bios32[i] = Bio.read(0, buffers[i]);
                Stacks.check(Stacks.submit(disk, bios32[i]));
            }
            int[] next = new int[STEPS.size()];
            SplittableRandom[] random = new SplittableRandom[STEPS.size()];
            for (int i = 0; i < random.length; i++) random[i] = new SplittableRandom(42 + i);
            PairedRatios.Op[] sides = {
                () -> copy(raw, at(random[0], places, size), buffers[0], size),
                () -> copy(raw, at(random[1], places, size), buffers[next[1]++ & 31], size),
                () -> read(store, at(random[2], places, size), buffers[next[2]++ & 31], size),
                () -> {
                    long at = read(store, at(random[3], places, size), buffers[next[3]++ & 31], size);
                    VarHandle.fullFence();
                    return at;
                },
                () -> {
                    long at = at(random[4], places, size);
                    Bio bio = bios32[next[4]++ & 31];
                    Stacks.check(Stacks.submit(disk, bio.reset(BioOp.READ, at >> Units.SECTOR_SHIFT, bio.data())));
                    return at;
                },
                PairedRatios.ringOp(new PairedRatios.Disks(new BlockDevice[] {disk}, 0), false, buffers),
                PairedRatios.ringOp(new PairedRatios.Disks(new BlockDevice[] {stack.device}, 0), false, buffers),
            };
            return lines(BioCallCost.turns(sides, rounds, bios));
        }
    }

    /** Each step's median and quartiles over the rounds, and the median of its per-round difference from the step it builds on. */
    static List<String> lines(double[][] ns) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < ns.length; i++) {
            double[] sorted = ns[i].clone();
            Arrays.sort(sorted);
            String line = String.format(Locale.ROOT, "%-22s %7.1f ns (%.1f to %.1f)", STEPS.get(i), PairedRatios.quantile(sorted, 0.5),
                    PairedRatios.quantile(sorted, 0.25), PairedRatios.quantile(sorted, 0.75));
            int base = BASE[i];
            if (base >= 0) {
                double[] step = new double[sorted.length];
                for (int r = 0; r < step.length; r++) step[r] = ns[i][r] - ns[base][r];
                Arrays.sort(step);
                line += String.format(Locale.ROOT, "  %+.1f over %s", PairedRatios.quantile(step, 0.5), STEPS.get(base));
            }
            out.add(line);
        }
        return out;
    }

    private static long at(SplittableRandom random, long places, int size) {
        return random.nextLong(places) * size;
    }

    private static long copy(MemorySegment from, long at, MemorySegment to, int size) {
        MemorySegment.copy(from, at, to, 0, size);
        return at;
    }

    private static long read(PageStore store, long at, MemorySegment to, int size) {
        store.read(at, to, 0, size);
        return at;
    }
}
