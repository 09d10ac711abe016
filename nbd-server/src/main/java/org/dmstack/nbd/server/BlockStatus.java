package org.dmstack.nbd.server;

import static org.dmstack.nbd.protocol.Nbd.*;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The answer to NBD_CMD_BLOCK_STATUS: one NBD_REPLY_TYPE_BLOCK_STATUS chunk per selected
 * context, the last one DONE, each the context's id and descriptors (length, status flags) of
 * consecutive extents from the request's offset. The server's request checks have made sure
 * the range is in the export, not empty and aligned to the minimum block size.
 *
 * <p>base:allocation asks the backend where its holes are ({@link Backend#seekHole},
 * {@link Backend#seekData}): a hole is NBD_STATE_HOLE | NBD_STATE_ZERO, everything else data
 * (0, which is always true). Extents stay within the request and are whole minimum blocks, as
 * the spec requires: a hole shrinks to the blocks wholly in it, data grows to cover the blocks
 * it touches. A reply holds at most {@link #MAX_DESCRIPTORS} descriptors (one with
 * NBD_CMD_FLAG_REQ_ONE), so a huge request cannot make a huge reply; the client asks again
 * from where the reply ended, as the spec lets a server answer less than was asked.
 */
final class BlockStatus {
    private BlockStatus() {}

    /** At most this many descriptors per context in one reply: 32 KiB of them. */
    static final int MAX_DESCRIPTORS = 4096;
    /** Backend queries per context in one reply, a bound on its work even when extents merge. */
    private static final int MAX_STEPS = 4 * MAX_DESCRIPTORS;
    private static final int CHUNK_HEAD = CHUNK_HEADER_SIZE + 4;

    /** The whole reply to {@code r} (every chunk), for {@code contexts} of backend {@code b}, flipped for sending. */
    static ByteBuffer reply(Request r, List<MetaContext> contexts, Backend b, int minBlock) {
        ByteBuffer out = ByteBuffer.allocate(contexts.size() * (CHUNK_HEAD + 8 * 8));
        for (int i = 0; i < contexts.size(); i++) {
            MetaContext c = contexts.get(i);
            out = switch (c) {
                case BASE_ALLOCATION -> allocation(out, r, c.id, b, minBlock, i == contexts.size() - 1);
            };
        }
        return out.flip();
    }

    /** base:allocation's chunk for {@code r}, appended to {@code out} (or to a larger copy of it, returned). */
    private static ByteBuffer allocation(ByteBuffer out, Request r, int id, Backend b, int minBlock, boolean last) {
        out = room(out, CHUNK_HEAD + 8);
        int start = out.position();
        out.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) (last ? REPLY_FLAG_DONE : 0)).putShort((short) REPLY_TYPE_BLOCK_STATUS)
                .putLong(r.handle()).putInt(0).putInt(id);
        int max = (r.flags() & CMD_FLAG_REQ_ONE) != 0 ? 1 : MAX_DESCRIPTORS;
        long offset = r.offset(), end = r.offset() + r.length();
        int descriptors = 0, lastFlags = -1;
        for (int steps = 0; offset < end && steps < MAX_STEPS; steps++) {
            long next;
            int flags;
            long hole = Math.min(b.seekHole(offset, end), end);
            if (hole > offset) { // data up to the hole, grown to whole blocks
                next = Math.min(roundUp(hole, minBlock), end);
                flags = 0;
            } else { // a hole up to the data, shrunk to whole blocks; less than one block of it is data
                next = Math.min(b.seekData(offset, end), end) & -(long) minBlock;
                flags = STATE_HOLE | STATE_ZERO;
                if (next <= offset) {
                    next = offset + minBlock;
                    flags = 0;
                }
            }
            if (flags == lastFlags) {
                int at = out.position() - 8;
                out.putInt(at, out.getInt(at) + (int) (next - offset));
            } else {
                if (descriptors == max) break;
                out = room(out, 8);
                out.putInt((int) (next - offset)).putInt(flags);
                descriptors++;
                lastFlags = flags;
            }
            offset = next;
        }
        out.putInt(start + 16, out.position() - start - CHUNK_HEADER_SIZE);
        return out;
    }

    private static long roundUp(long n, int block) {
        return (n + block - 1) & -(long) block;
    }

    /** {@code out}, or a copy of it twice as large when fewer than {@code bytes} bytes are left. */
    private static ByteBuffer room(ByteBuffer out, int bytes) {
        if (out.remaining() >= bytes) return out;
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(2 * out.capacity(), out.position() + bytes));
        return bigger.put(out.flip());
    }
}
