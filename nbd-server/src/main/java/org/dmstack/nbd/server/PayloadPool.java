package org.dmstack.nbd.server;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.dmstack.nbd.protocol.Nbd;

/**
 * A connection's payload buffers, reused from request to request, in power-of-two sizes from
 * 4 KiB to {@link Nbd#MAX_PAYLOAD}.
 *
 * <p>Buffers are anonymous mappings (mmap), not {@code Arena} memory, for two reasons. The
 * kernel gives their pages only as they are written, as it does to nbdkit's malloc'd buffers,
 * so a client that announces a 32 MiB write and sends one byte costs one page, not 32 MiB
 * zero-filled. And {@link #close} unmaps them when the connection ends, so memory goes back at
 * once instead of whenever a garbage collection happens to run (which, with the heap quiet,
 * may be never). What the pool keeps between requests is bounded by {@code keepBytes}; a buffer
 * beyond that is unmapped when it comes back.
 *
 * <p>A connection's pool may have a spare pool beneath it, the server's: when the connection
 * ends, what it kept goes there (as much as the spare pool keeps; the rest is unmapped), and the
 * next connection takes from it before it maps. Clients that connect for a request or two, as
 * health checks and probers do, then cost no mmap, page fault and munmap each (a munmap of
 * memory that threads on other CPUs may have used interrupts those CPUs to flush their TLBs).
 */
final class PayloadPool implements AutoCloseable {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = Integer.numberOfTrailingZeros(Nbd.MAX_PAYLOAD);
    // Linux's mmap(2) flags and protections.
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;

    static {
        Linker linker = Linker.nativeLinker();
        MMAP = linker.downcallHandle(linker.defaultLookup().find("mmap").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MUNMAP = linker.downcallHandle(linker.defaultLookup().find("munmap").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    }

    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedQueue<MemorySegment>[] free = new ConcurrentLinkedQueue[MAX_SHIFT - MIN_SHIFT + 1];
    private final long keepBytes;
    private final PayloadPool spare;
    private final AtomicLong kept = new AtomicLong();
    private final AtomicLong mapped = new AtomicLong();
    private final AtomicLong lent = new AtomicLong();
    private boolean closed;

    /** A pool that keeps at most {@code keepBytes} of buffers between requests. */
    PayloadPool(long keepBytes) {
        this(keepBytes, null);
    }

    /** A pool as {@link #PayloadPool(long)} that takes from {@code spare} before it maps, and leaves its buffers there when it closes. */
    PayloadPool(long keepBytes, PayloadPool spare) {
        this.keepBytes = keepBytes;
        this.spare = spare;
        for (int i = 0; i < free.length; i++) free[i] = new ConcurrentLinkedQueue<>();
    }

    /**
     * A buffer of at least {@code n} bytes (1 to MAX_PAYLOAD; its size is the next power of two,
     * 4 KiB at least), contents undefined. Use a slice of it; give the buffer itself back with
     * {@link #give}.
     *
     * @throws OutOfMemoryError when the kernel has no memory to map
     */
    MemorySegment take(long n) {
        int c = sizeClass(n);
        MemorySegment buffer = free[c].poll();
        if (buffer != null) {
            kept.addAndGet(-buffer.byteSize());
            return buffer;
        }
        if (spare != null && (buffer = spare.lend(c)) != null) {
            mapped.addAndGet(buffer.byteSize());
            return buffer;
        }
        return map(1L << (c + MIN_SHIFT));
    }

    /** Takes back a buffer {@link #take} gave out, once nothing uses it any more; null is ignored. */
    void give(MemorySegment buffer) {
        if (buffer == null) return;
        if (kept.addAndGet(buffer.byteSize()) <= keepBytes) {
            free[sizeClass(buffer.byteSize())].offer(buffer);
        } else {
            kept.addAndGet(-buffer.byteSize());
            unmap(buffer);
        }
    }

    /** Buffers this pool has lent to the pools above it so far (see {@link #PayloadPool(long, PayloadPool)}). */
    long lent() {
        return lent.get();
    }

    /** Bytes mapped now, in use or kept. */
    long mappedBytes() {
        return mapped.get();
    }

    /**
     * Leaves every kept buffer to the spare pool, as much as it keeps, and unmaps the rest; call
     * it once no buffer is in use (the connection has ended). A spare pool that is closed unmaps
     * what it keeps and takes nothing more.
     */
    @Override
    public synchronized void close() {
        closed = true;
        trim();
    }

    /**
     * Gives back every kept buffer as {@link #close} does, the pool staying open: for a connection
     * that has gone quiet, whose buffers would otherwise stay resident for as long as it idles.
     * Buffers in use are not kept, so they are not touched.
     */
    void trim() {
        for (ConcurrentLinkedQueue<MemorySegment> q : free) {
            for (MemorySegment b; (b = q.poll()) != null; ) {
                kept.addAndGet(-b.byteSize());
                if (spare != null && spare.adopt(b)) {
                    mapped.addAndGet(-b.byteSize());
                } else {
                    unmap(b);
                }
            }
        }
    }

    /** A kept buffer of size class {@code c} for another pool, which counts it from now on; null if none is kept. */
    private MemorySegment lend(int c) {
        MemorySegment b = free[c].poll();
        if (b != null) {
            kept.addAndGet(-b.byteSize());
            mapped.addAndGet(-b.byteSize());
            lent.incrementAndGet();
        }
        return b;
    }

    /** Keeps another pool's buffer if there is room; false (the caller still has it) if not. */
    private synchronized boolean adopt(MemorySegment b) {
        if (closed) return false;
        if (kept.addAndGet(b.byteSize()) > keepBytes) {
            kept.addAndGet(-b.byteSize());
            return false;
        }
        mapped.addAndGet(b.byteSize());
        free[sizeClass(b.byteSize())].offer(b);
        return true;
    }

    private MemorySegment map(long size) {
        MemorySegment p;
        try {
            p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap", t);
        }
        if (p.address() == -1L) throw new OutOfMemoryError("cannot map a payload buffer of " + size + " bytes");
        mapped.addAndGet(size);
        return p.reinterpret(size);
    }

    private void unmap(MemorySegment buffer) {
        int rc;
        try {
            rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(buffer.address()), buffer.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException("munmap", t);
        }
        if (rc != 0) throw new IllegalStateException("munmap of " + buffer.byteSize() + " bytes failed");
        mapped.addAndGet(-buffer.byteSize());
    }

    private static int sizeClass(long n) {
        if (n < 1 || n > Nbd.MAX_PAYLOAD) throw new IllegalArgumentException("payload of " + n + " bytes");
        int shift = 64 - Long.numberOfLeadingZeros(n - 1);
        return Math.max(shift, MIN_SHIFT) - MIN_SHIFT;
    }
}
