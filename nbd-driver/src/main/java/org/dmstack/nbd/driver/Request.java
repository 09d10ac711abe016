package org.dmstack.nbd.driver;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.dmstack.block.BlkStatus;
import org.dmstack.nbd.protocol.Nbd;

/**
 * One NBD command for a bio or a part of it. It may be sent more than once: when its connection
 * breaks before the reply, it goes back to the device and is sent again on another connection
 * (NBD requests are idempotent). {@code done} runs exactly once, with the final status.
 */
final class Request {
    final int type;
    final int cmdFlags;
    final long offset;
    final int length;
    /** The bio's memory for READ (filled by the reply) and WRITE (sent); null otherwise. */
    final MemorySegment data;
    /** Separate ranges one reply may fill (see {@link #fill}). */
    static final int MAX_RANGES = 1024;
    private final Consumer<BlkStatus> done;
    private boolean finished;

    /** While waiting for a connection: when the wait ends in EIO (System.nanoTime); 0 otherwise. */
    long deadline;
    // Reply state of a structured reply, reset before each send.
    long covered;
    int error;
    String errorMessage;
    /**
     * The bytes of the buffer content chunks have filled: the first chunk's [start, end); then,
     * for a reply in several chunks, every range start to end, touching ones merged.
     */
    private long firstStart, firstEnd;
    private TreeMap<Long, Long> ranges;

    Request(int type, int cmdFlags, long offset, int length, MemorySegment data, Consumer<BlkStatus> done) {
        this.type = type;
        this.cmdFlags = cmdFlags;
        this.offset = offset;
        this.length = length;
        this.data = data;
        this.done = done;
    }

    static Request flush(Consumer<BlkStatus> done) {
        return new Request(Nbd.CMD_FLUSH, 0, 0, 0, null, done);
    }

    /** Forgets what an earlier, broken attempt received. */
    void resetReply() {
        covered = 0;
        error = 0;
        errorMessage = null;
        ranges = null;
    }

    /**
     * Counts a content chunk that fills {@code size} bytes (at least one) of the buffer from
     * {@code start}. The spec forbids chunks that overlap, and only without overlaps can
     * {@link #covered} reaching the length mean every byte came. Ranges that touch are merged, so
     * a reply in order (or in reverse) is one range; a reply in more than {@link #MAX_RANGES}
     * scattered pieces is refused rather than followed (one byte at a time, every other byte,
     * would cost a map entry per byte).
     */
    void fill(long start, long size) throws NbdProtocolException {
        long end = start + size;
        if (covered == 0) {
            firstStart = start;
            firstEnd = end;
        } else {
            if (ranges == null) {
                ranges = new TreeMap<>();
                ranges.put(firstStart, firstEnd);
            }
            Map.Entry<Long, Long> below = ranges.floorEntry(start);
            Map.Entry<Long, Long> above = ranges.ceilingEntry(start);
            if ((below != null && below.getValue() > start) || (above != null && above.getKey() < end)) {
                throw new NbdProtocolException("a reply chunk at offset " + (offset + start) + " of " + size + " bytes overlaps another in the reply to " + this);
            }
            if (below != null && below.getValue() == start) {
                start = below.getKey();
                ranges.remove(start);
            }
            if (above != null && above.getKey() == end) end = ranges.remove(end);
            ranges.put(start, end);
            if (ranges.size() > MAX_RANGES) {
                throw new NbdProtocolException("the reply to " + this + " comes in more than " + MAX_RANGES + " scattered pieces");
            }
        }
        covered += size;
    }

    // A WRITE's memory is its sender's until the write returns (NIO holds the memory's session till
    // then); a reply the server sent sooner (it may, once the bytes are in its socket) waits for it,
    // as Linux's nbd takes cmd->lock both to send a request and to end it.
    private boolean sending; // guarded by this
    private BlkStatus answeredMeanwhile; // guarded by this

    /** The sender starts writing this WRITE's payload. */
    synchronized void sending() {
        sending = true;
    }

    /** The sender is done with this request's memory: a reply that came meanwhile ends it now. */
    void sent() {
        BlkStatus status;
        synchronized (this) {
            sending = false;
            status = answeredMeanwhile;
            answeredMeanwhile = null;
        }
        if (status != null) complete(status);
    }

    /** The server's answer: ends the request now, or once its sender is done with its memory. */
    void answer(BlkStatus status) {
        synchronized (this) {
            if (sending) {
                answeredMeanwhile = status;
                return;
            }
        }
        complete(status);
    }

    /** Ends the request; later calls do nothing (a request is ended by one party only, this is the guard). */
    void complete(BlkStatus status) {
        synchronized (this) {
            if (finished) return;
            finished = true;
        }
        done.accept(status);
    }

    /**
     * The status for an error the server replied with: EINVAL and EOVERFLOW as INVAL, ENOTSUP as
     * NOTSUPP, every other error as IOERR, always naming the server's errno (the block layer has no
     * ENOSPC or EPERM status; the message keeps what the server said).
     */
    BlkStatus serverError(String device, int errno, String message) {
        String text = device + ": server replied " + Nbd.errorName(errno) + " to " + Nbd.commandName(type)
                + (type == Nbd.CMD_FLUSH ? "" : " at offset " + offset + " length " + length)
                + (message == null || message.isEmpty() ? "" : ": " + message);
        return switch (errno) {
            case Nbd.EINVAL, Nbd.EOVERFLOW -> BlkStatus.inval(text);
            case Nbd.ENOTSUP -> BlkStatus.notsupp(text);
            default -> BlkStatus.ioerr(text);
        };
    }

    @Override
    public String toString() {
        return Nbd.commandName(type) + (cmdFlags != 0 ? "+FUA" : "") + " offset " + offset + " length " + length;
    }
}
