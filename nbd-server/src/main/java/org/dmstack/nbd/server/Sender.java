package org.dmstack.nbd.server;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A connection's second writer: the replies made on a thread other than its request reader (a
 * request that waited for its backend, FLUSH, TRIM, a device ending bios on a thread of its own),
 * so that only the connection's two platform threads ever block on the socket
 * ({@link org.dmstack.nbd.socket.BlockingMode}); and, for a client on another host while more threads run than there
 * are CPUs, the replies to large READs ({@link Replies#HANDED_OVER}). What has queued up goes out together, in one gathering
 * write.
 *
 * <p>It is a platform thread, taken from the server's pool (as transmission's threads are) for
 * the first reply it is given (a client of small reads and writes a RAM disk completes at once
 * never needs one), because it blocks in the kernel until the client has taken the replies. Its queue holds replies that own a permit, so what waits here is
 * bounded by the connection's budget, and a client that does not read its replies stops the
 * reader at its permits, as before.
 *
 * <p>Why large READ replies come here when the CPUs are busy: the thread that writes a reply is
 * the one that wakes the client, and Linux wakes a thread on the waker's CPU when it can (a
 * socket's wake-up is a sync wake-up: the waker is expected to sleep soon). A reader that replied
 * itself drew its client onto its own CPU, and the client's requests drew it back: with more busy
 * threads than CPUs (two clients on two CPUs) each client took turns with its reader on one CPU,
 * and nothing of a connection ran in parallel. Written from here, the reply's copy into the
 * socket runs beside the reader's next request, and the client wakes where the sender runs (1 MiB
 * reads over two connections: 1.6x). With a CPU free the hand-off is only a wake-up more; and a
 * WRITE's 16-byte reply handed over did not undo the same glue for writes (nbd-server's README).
 * Those figures were taken with the server's side paced (BBR): a local connection no longer paces
 * ({@link org.dmstack.nbd.socket.LocalPacing}), and then the hand-off cost 1 MiB reads over two local connections 1.17x, so
 * a local client's replies stay on the reader; a remote client's still pace, and a reader writing a
 * large reply itself waits while the link drains.
 */
final class Sender {
    /**
     * A reply handed over: {@code head}, then {@code data} (none, one buffer, or a READ's pieces
     * in place), written in one gathering write; then {@code release} goes back.
     */
    record Out(ByteBuffer head, List<ByteBuffer> data, AutoCloseable release) {}

    /** Replies written at once, at most (a READ in place may bring hundreds of buffers: the JDK writes IOV_MAX, 1024, per call). */
    private static final int MAX_BATCH = 64;

    private final Executor threads;
    private final Sink sink;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queued = lock.newCondition();
    private final ArrayDeque<Out> queue = new ArrayDeque<>();
    private boolean started; // under lock
    private boolean closed; // under lock

    /** Where replies go, on the sender's thread. */
    interface Sink {
        /** Writes {@code batch} in one gathering write and releases every reply in it, whatever happens. */
        void write(List<Out> batch);
    }

    /** @param threads where the sender's thread comes from: the server's pool of platform threads */
    Sender(Executor threads, Sink sink) {
        this.threads = threads;
        this.sink = sink;
    }

    /** Queues a reply for the sender's thread, starting it if needed; false once closed or the server stops (the caller sends it). */
    boolean offer(Out out) {
        lock.lock();
        try {
            if (closed) return false;
            if (!started) {
                try {
                    threads.execute(this::run); // it waits for the lock, and finds this reply queued
                } catch (RejectedExecutionException stopping) {
                    return false; // the server is stopping: the caller writes it
                }
                started = true;
            }
            queue.add(out);
            queued.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The thread goes back to its pool once it has written what was queued. */
    void close() {
        lock.lock();
        try {
            closed = true;
            queued.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        List<Out> batch = new ArrayList<>();
        while (true) {
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) queued.awaitUninterruptibly();
                if (queue.isEmpty()) return; // closed, and nothing left
                for (Out out; batch.size() < MAX_BATCH && (out = queue.poll()) != null; ) batch.add(out);
            } finally {
                lock.unlock();
            }
            sink.write(batch);
            batch.clear();
        }
    }
}
