package org.dmstack.memory;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import org.dmstack.units.Units;

/**
 * Native memory in 2 MiB-aligned pieces that the kernel may back with huge pages, as Linux's
 * direct map backs the pages brd allocates: a bio at a random page of a large RAM disk then costs
 * no TLB miss on a 4 KiB page table (each costs a page walk, as much as the rest of a bio's
 * lookup). The memory is mapped anonymous and advised with {@code MADV_HUGEPAGE} before it is
 * touched (an arena's memory is zeroed, hence faulted in 4 KiB pages, before one could advise it);
 * it reads as zeros and is committed as it is touched. Where there is no {@code mmap} (not Linux),
 * it is an arena's ordinary allocation.
 */
public final class HugeMemory {
    /** The size and alignment of a huge page on x86-64 and arm64 with 4 KiB pages. */
    public static final long HUGE_PAGE_SIZE = 2L << 20;

    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MADV_HUGEPAGE = 14;
    private static final MethodHandle MMAP = linuxCall("mmap", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = linuxCall("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MADVISE = linuxCall("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));

    private HugeMemory() {}

    private static MethodHandle linuxCall(String name, FunctionDescriptor descriptor) {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux") || ADDRESS.byteSize() != 8) return null;
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find(name).map(f -> linker.downcallHandle(f, descriptor)).orElse(null);
    }

    /**
     * {@code bytes} (a multiple of {@link #HUGE_PAGE_SIZE}) of zeroed memory aligned to a huge page,
     * given back to the system when {@code arena} closes.
     *
     * @throws OutOfMemoryError when the system has no address space or memory left
     */
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (bytes <= 0 || bytes % HUGE_PAGE_SIZE != 0) throw new IllegalArgumentException("not a whole number of huge pages: " + bytes);
        if (MMAP == null || MUNMAP == null || MADVISE == null) return arena.allocate(bytes, Units.PAGE_SIZE);
        try {
            // Mapped one huge page larger, then trimmed to the aligned part: mmap aligns to 4 KiB only.
            long raw = (long) MMAP.invokeExact(0L, bytes + HUGE_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (raw == -1) throw new OutOfMemoryError("mmap of " + bytes + " bytes failed");
            long start = (raw + HUGE_PAGE_SIZE - 1) & -HUGE_PAGE_SIZE;
            if (start > raw) unmap(raw, start - raw);
            long tail = raw + bytes + HUGE_PAGE_SIZE - (start + bytes);
            if (tail > 0) unmap(start + bytes, tail);
            // Advice only: without transparent huge pages the memory is the same, in 4 KiB pages.
            int ignored = (int) MADVISE.invokeExact(start, bytes, MADV_HUGEPAGE);
            return MemorySegment.ofAddress(start).reinterpret(bytes, arena, s -> unmap(s.address(), bytes));
        } catch (OutOfMemoryError | RuntimeException e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("mmap", e);
        }
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(address, bytes);
        } catch (Throwable e) {
            throw new IllegalStateException("munmap", e);
        }
    }
}
