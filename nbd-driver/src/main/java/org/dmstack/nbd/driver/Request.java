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
    private final Consumer<BlkStatus> done;
    private boolean finished;

    /** While waiting for a connection: when the wait ends in EIO (System.nanoTime); 0 otherwise. */
    long deadline;
    // Reply state of a structured reply, reset before each send.
    long covered;
    int error;
    String errorMessage;
    /** The first content chunk's bytes of the buffer, [start, end); the others, start to end, only when a reply comes in several. */
    private long firstStart, firstEnd;
    private TreeMap<Long, Long> more;

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
        more = null;
    }

    /**
     * Counts a content chunk that fills {@code size} bytes (at least one) of the buffer from
     * {@code start}; false, counting nothing, when it overlaps one before it. The spec forbids
     * overlaps, and only with none can {@link #covered} reaching the length mean every byte came.
     */
    boolean fill(long start, long size) {
        long end = start + size;
        if (covered == 0) {
            firstStart = start;
            firstEnd = end;
        } else {
            if (start < firstEnd && firstStart < end) return false;
            if (more == null) more = new TreeMap<>();
            Map.Entry<Long, Long> below = more.floorEntry(start);
            if (below != null && below.getValue() > start) return false;
            Long above = more.ceilingKey(start);
            if (above != null && above < end) return false;
            more.put(start, end);
        }
        covered += size;
        return true;
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
