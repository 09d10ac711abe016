package org.dmstack.bench;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import org.dmstack.iov.IovIter;
import org.dmstack.memory.Memory;

/**
 * How many times each DAX benchmark operation forces memory ({@link Memory#forces()}), per
 * operation. This is a property of the code path, not of timing, so it is counted once, in the
 * runner's JVM, with the same stacks and the same operations as {@link DaxBench}.
 */
final class ForceCensus {
    private ForceCensus() {}

    /** Forces per operation, by {@link #key}. */
    static Map<String, Double> run() {
        Map<String, Double> out = new LinkedHashMap<>();
        int ops = 16;
        for (Stacks.Layer layer : Stacks.Layer.values()) {
            for (int size : new int[] {4096, 65536, 1 << 20}) {
                for (boolean wc : new boolean[] {false, true}) {
                    long region = Math.max(4L << 20, (long) size * ops);
                    try (Stacks.Dax dax = new Stacks.Dax(layer, region, wc)) {
                        byte[] buffer = new byte[size];
                        MemorySegment seg = MemorySegment.ofArray(buffer);
                        IovIter iter = IovIter.iovec(buffer);
                        long before = Memory.forces();
                        for (int i = 0; i < ops; i++) DaxBench.write(dax, (long) i * size % region, seg, iter, wc);
                        out.put(key(layer.name(), size, wc, "write"), (Memory.forces() - before) / (double) ops);
                        before = Memory.forces();
                        for (int i = 0; i < ops; i++) DaxBench.read(dax, (long) i * size % region, seg, iter);
                        out.put(key(layer.name(), size, wc, "read"), (Memory.forces() - before) / (double) ops);
                    }
                }
            }
        }
        return out;
    }

    static String key(String stack, int size, boolean writeCache, String op) {
        return stack + "/" + size + "/" + (writeCache ? "wc-on" : "wc-off") + "/" + op;
    }
}
