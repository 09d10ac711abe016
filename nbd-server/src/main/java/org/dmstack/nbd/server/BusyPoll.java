package org.dmstack.nbd.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

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
 * soon costs no polling.
 *
 * <p>Polling is only free on a CPU nothing else wants. A poll therefore starts only while no more
 * threads are running than there are CPUs, this one included ({@link CpuLoad}: the running count
 * of /proc/loadavg, read at most every 10 ms), and at most half the CPUs poll at once. Each turn yields the CPU, so a
 * thread waiting for this CPU runs at once (the client itself, when both are pinned to one CPU:
 * then the poll hands it the CPU and finds its request when it comes back, with no wake-up at all).
 * A turn that took longer than {@value #PREEMPTED_NANOS} ns and found nothing lost the CPU to
 * another thread: it ends polling on that connection for the next {@value #COOLDOWN} waits, twice
 * as many after each such poll in a row (up to {@value #MAX_COOLDOWN}; a poll that catches a
 * request starts again from {@value #COOLDOWN}), since a thread that polls beside others uses up
 * its share of the CPU and then waits longer for it when its request does come.
 *
 * <p>With many requests in flight the socket is seldom empty, and a poll that finds bytes at its
 * first look only adds a system call to the read that follows (FIONREAD was a seventh of the
 * server's CPU at queue depth 32). After {@value #AT_ONCE} such polls in a row the reader reads
 * without polling, until a read takes longer than {@value #GROW_START_NANOS} ns, that is, until it
 * waited for the client: then it polls again.
 */
final class BusyPoll {
    static final long GROW_START_NANOS = 10_000;
    /** A turn of the poll that took longer than this lost the CPU to another thread. */
    static final long PREEMPTED_NANOS = 20_000;
    /** Waits without polling after a poll lost its CPU, the first time. */
    static final int COOLDOWN = 8;
    /** Waits without polling after many polls in a row lost their CPU. */
    static final int MAX_COOLDOWN = 16384;
    /** Polls in a row that found bytes at their first look, after which reads go without polling. */
    static final int AT_ONCE = 8;
    private static final int MAX_POLLERS = Math.max(1, CpuLoad.CPUS / 2);
    private static final AtomicInteger POLLERS = new AtomicInteger();

    private final InputStream socket; // available() is ioctl(FIONREAD): whether a read would block
    private final long limitNanos;
    private final BooleanSupplier cpuIdle;
    private long windowNanos;
    private long waitStart;
    private int cooldown;
    private int nextCooldown = COOLDOWN;
    private boolean preempted;
    private int atOnce;
    private boolean skipped;

    /** @param limitNanos the longest poll; 0 turns polling off */
    BusyPoll(SocketChannel channel, long limitNanos) throws IOException {
        this(channel, limitNanos, CpuLoad::idle);
    }

    /** @param cpuIdle whether a CPU is free for polling now */
    BusyPoll(SocketChannel channel, long limitNanos, BooleanSupplier cpuIdle) throws IOException {
        this.socket = limitNanos > 0 ? channel.socket().getInputStream() : null;
        this.limitNanos = limitNanos;
        this.cpuIdle = cpuIdle;
    }

    /** Called before a read that may block: polls up to the window; true when bytes came (the read will not block). */
    boolean poll() throws IOException {
        waitStart = System.nanoTime();
        preempted = false;
        skipped = false;
        if (windowNanos == 0) {
            atOnce = 0;
            return false;
        }
        if (atOnce >= AT_ONCE) {
            skipped = true;
            return false;
        }
        if (!cpuIdle.getAsBoolean()) return false;
        if (POLLERS.incrementAndGet() > MAX_POLLERS) {
            POLLERS.decrementAndGet();
            return false;
        }
        try {
            long end = waitStart + windowNanos, last = waitStart;
            if (socket.available() > 0) {
                atOnce++;
                return true;
            }
            atOnce = 0;
            do {
                long now = System.nanoTime();
                if (now - last > PREEMPTED_NANOS) {
                    preempted = true;
                    return false;
                }
                if (now - end >= 0) return false;
                last = now;
                // A thread waiting for this CPU (the client itself, when both are pinned to one) runs now.
                Thread.yield();
            } while (socket.available() == 0);
            return true;
        } finally {
            POLLERS.decrementAndGet();
        }
    }

    /** Called after the read that followed {@link #poll}: how long the reader waited decides the next window. */
    void waited() {
        if (limitNanos > 0) waited(System.nanoTime() - waitStart, preempted);
    }

    /**
     * The next window after a wait of {@code nanos} from the start of a poll to the client's bytes,
     * the poll having lost its CPU or not.
     */
    void waited(long nanos, boolean lostCpu) {
        if (skipped && nanos > GROW_START_NANOS) atOnce = 0; // the read waited for the client: poll again
        if (lostCpu) {
            windowNanos = 0;
            cooldown = nextCooldown;
            nextCooldown = Math.min(MAX_COOLDOWN, nextCooldown * 2);
        } else if (nanos <= windowNanos) {
            nextCooldown = COOLDOWN; // the poll caught it
        } else if (nanos > limitNanos) {
            windowNanos = windowNanos / 2 < GROW_START_NANOS ? 0 : windowNanos / 2; // a pause: the poll was wasted
        } else if (cooldown > 0) {
            cooldown--;
        } else {
            windowNanos = Math.min(limitNanos, Math.max(GROW_START_NANOS, windowNanos * 2));
        }
    }

    /** How long the next poll may last. */
    long windowNanos() {
        return windowNanos;
    }

    /** Whether the next read goes without polling, the last polls having found bytes at once. */
    boolean skipping() {
        return atOnce >= AT_ONCE;
    }
}
