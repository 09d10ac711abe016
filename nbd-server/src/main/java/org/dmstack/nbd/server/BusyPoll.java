package org.dmstack.nbd.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Polls a connection's socket for a while before its reader blocks, as Linux's busy polling
 * (net.core.busy_read) and KVM's halt polling do.
 *
 * <p>At queue depth 1 the client sends its next request some tens of microseconds after it got
 * the reply. A reader that sleeps meanwhile has to be woken for every request, on a CPU that went
 * idle, and that wake-up costs more than serving the request. A reader that polls is still
 * running when the request comes.
 *
 * <p>The window adapts as KVM's halt_poll_ns (virt/kvm/kvm_main.c): it grows, doubling from 10
 * µs up to the limit, while the client's next bytes come within the limit of the reader starting
 * to wait, and halves when they do not, down to 0 below 10 µs (halt_poll_ns_shrink 2); so one
 * late request does not end polling, and a client that pauses, or sends a request now and then,
 * soon costs no polling. The poller yields the CPU at every turn and stops when it had to wait
 * for it (as the kernel's busy poll stops at need_resched), and at most half the CPUs poll at
 * once: polling only ever uses a CPU nothing else wants.
 */
final class BusyPoll {
    static final long GROW_START_NANOS = 10_000;
    /** A turn of the poll that took longer than this lost the CPU to another thread. */
    private static final long PREEMPTED_NANOS = 20_000;
    private static final int MAX_POLLERS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    private static final AtomicInteger POLLERS = new AtomicInteger();

    private final InputStream socket; // available() is ioctl(FIONREAD): whether a read would block
    private final long limitNanos;
    private long windowNanos;
    private long waitStart;

    /** @param limitNanos the longest poll; 0 turns polling off */
    BusyPoll(SocketChannel channel, long limitNanos) throws IOException {
        this.socket = limitNanos > 0 ? channel.socket().getInputStream() : null;
        this.limitNanos = limitNanos;
    }

    /** Called before a read that may block: polls up to the window; true when bytes came (the read will not block). */
    boolean poll() throws IOException {
        waitStart = System.nanoTime();
        if (windowNanos == 0) return false;
        if (POLLERS.incrementAndGet() > MAX_POLLERS) {
            POLLERS.decrementAndGet();
            return false;
        }
        try {
            long end = waitStart + windowNanos, last = waitStart;
            while (socket.available() == 0) {
                Thread.yield();
                long now = System.nanoTime();
                if (now - end >= 0 || now - last > PREEMPTED_NANOS) return false;
                last = now;
            }
            return true;
        } finally {
            POLLERS.decrementAndGet();
        }
    }

    /** Called after the read that followed {@link #poll}: how long the reader waited decides the next window. */
    void waited() {
        if (limitNanos > 0) waited(System.nanoTime() - waitStart);
    }

    /** The next window after a wait of {@code nanos} from the start of a poll to the client's bytes. */
    void waited(long nanos) {
        if (nanos <= windowNanos) return; // the poll caught it
        if (nanos > limitNanos) {
            windowNanos = windowNanos / 2 < GROW_START_NANOS ? 0 : windowNanos / 2; // a pause: the poll was wasted
        } else {
            windowNanos = Math.min(limitNanos, Math.max(GROW_START_NANOS, windowNanos * 2));
        }
    }

    /** How long the next poll may last. */
    long windowNanos() {
        return windowNanos;
    }
}
