package org.dmstack.nbd.server;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.Semaphore;

/**
 * What one request holds of its connection from the moment it is read until its reply is out:
 * a place among the requests in flight, its share of the payload budget, and its payload
 * buffer, or the backend memory its READ reply is sent from. {@link #close} gives all of it back, once, on whichever path the request ends —
 * replied, refused, failed, or its client gone.
 *
 * <p>A connection hands permits out with {@link Permits#acquire}; the reader blocks there when
 * the connection has too much in flight, which is the back-pressure on a client that sends
 * faster than its replies go out.
 */
final class Permit implements AutoCloseable {
    private final Permits owner;
    private final int bytes;
    private MemorySegment buffer;
    private Backend pinned;
    private boolean closed;

    private Permit(Permits owner, int bytes) {
        this.owner = owner;
        this.bytes = bytes;
    }

    /**
     * The payload buffer: {@code length} bytes (a slice of a pooled buffer), taken on first use.
     * A request is handed from thread to thread along with its permit, never used by two at once.
     */
    MemorySegment buffer(long length) {
        if (buffer == null) buffer = owner.pool.take(Math.max(length, 1));
        return buffer.asSlice(0, length);
    }

    /** The request's data is {@code backend}'s memory, pinned ({@link Backend#pinForRead}): closing unpins it. */
    void pinned(Backend backend) {
        pinned = backend;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (pinned != null) pinned.unpin();
        pinned = null;
        owner.pool.give(buffer);
        buffer = null;
        owner.bytes.release(bytes);
        owner.requests.release();
    }

    /** A connection's budget for requests in flight: how many, and how many payload bytes. */
    static final class Permits {
        private final int maxRequests;
        private final Semaphore requests;
        private final Semaphore bytes;
        private final int maxBytes;
        private final PayloadPool pool;
        private MemorySegment readAhead;

        /** @param spare the server's pool of buffers that ended connections left, taken from before mapping */
        Permits(int maxRequests, int maxBytes, PayloadPool spare) {
            this.maxRequests = maxRequests;
            this.maxBytes = maxBytes;
            this.requests = new Semaphore(maxRequests);
            this.bytes = new Semaphore(maxBytes);
            this.pool = new PayloadPool(maxBytes, spare);
        }

        /** The reader's buffer for taking requests in, at least {@code size} bytes, from the pool; it goes back in {@link #drainAndClose}. */
        MemorySegment readAhead(int size) {
            readAhead = pool.take(size);
            return readAhead;
        }

        /**
         * A permit for a request carrying {@code bytes} of payload (read or written); waits while
         * the budget is spent. A request larger than the whole budget waits until it has the
         * connection to itself.
         */
        Permit acquire(int bytes) throws InterruptedException {
            int share = Math.min(bytes, maxBytes);
            requests.acquire();
            try {
                this.bytes.acquire(share);
            } catch (InterruptedException e) {
                requests.release();
                throw e;
            }
            return new Permit(this, share);
        }

        /** A permit as {@link #acquire} gives, if it can be had without waiting; else null. */
        Permit tryAcquire(int bytes) {
            int share = Math.min(bytes, maxBytes);
            if (!requests.tryAcquire()) return null;
            if (!this.bytes.tryAcquire(share)) {
                requests.release();
                return null;
            }
            return new Permit(this, share);
        }

        /** How many requests hold a permit now. */
        int inFlight() {
            return maxRequests - requests.availablePermits();
        }

        /**
         * Waits until every permit is back (every request in flight has been answered, or its
         * client is gone), then unmaps the payload buffers. Not interruptible: the buffers may
         * only go once no bio uses them.
         */
        void drainAndClose() {
            requests.acquireUninterruptibly(maxRequests);
            requests.release(maxRequests);
            pool.give(readAhead);
            readAhead = null;
            pool.close();
        }

        /** Gives back the payload buffers kept for the next requests ({@link PayloadPool#trim}). */
        void trim() {
            pool.trim();
        }

        /** Payload memory mapped now for this connection. */
        long mappedBytes() {
            return pool.mappedBytes();
        }
    }
}
