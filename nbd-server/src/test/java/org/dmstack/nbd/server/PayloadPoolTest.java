package org.dmstack.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** A connection's payload buffers, and the server's spare pool that ended connections leave them in. */
class PayloadPoolTest {
    private static final int KIB = 1 << 10;

    @Test
    void theNextConnectionTakesWhatTheLastOneLeftInsteadOfMapping() {
        try (PayloadPool spare = new PayloadPool(256 * KIB)) {
            PayloadPool first = new PayloadPool(1 << 20, spare);
            MemorySegment a = first.take(4 * KIB), b = first.take(64 * KIB);
            a.fill((byte) 1);
            first.give(a);
            first.give(b);
            assertEquals(68 * KIB, first.mappedBytes());
            first.close();
            assertEquals(0, first.mappedBytes(), "the ended connection holds nothing");
            assertEquals(68 * KIB, spare.mappedBytes(), "the spare pool holds what it left");

            PayloadPool second = new PayloadPool(1 << 20, spare);
            MemorySegment a2 = second.take(4000), b2 = second.take(40 * KIB);
            assertEquals(a.address(), a2.address(), "the same 4 KiB buffer, not a new mapping");
            assertEquals(b.address(), b2.address());
            assertEquals(2, spare.lent());
            assertEquals(68 * KIB, second.mappedBytes());
            assertEquals(0, spare.mappedBytes());
            second.give(a2);
            second.give(b2);
            second.close();
            assertEquals(68 * KIB, spare.mappedBytes());
        }
        // the spare pool, closed, has unmapped them
    }

    @Test
    void theSparePoolKeepsItsBoundAndTheRestIsUnmapped() {
        try (PayloadPool spare = new PayloadPool(128 * KIB)) {
            PayloadPool conn = new PayloadPool(1 << 20, spare);
            MemorySegment big = conn.take(512 * KIB), small = conn.take(64 * KIB);
            conn.give(big);
            conn.give(small);
            conn.close();
            assertEquals(0, conn.mappedBytes());
            assertEquals(64 * KIB, spare.mappedBytes(), "512 KiB is beyond what the spare pool keeps: unmapped");
        }
    }

    @Test
    void aClosedSparePoolTakesNothingMore() {
        PayloadPool spare = new PayloadPool(1 << 20);
        PayloadPool conn = new PayloadPool(1 << 20, spare);
        conn.give(conn.take(4 * KIB));
        spare.close();
        conn.close();
        assertEquals(0, conn.mappedBytes());
        assertEquals(0, spare.mappedBytes(), "a server that has stopped keeps no buffers");
    }
}
