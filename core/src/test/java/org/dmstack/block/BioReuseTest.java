package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** bio_reset and bio_init_clone: a bio that has ended can be made a new one, never one in flight. */
class BioReuseTest {
    private final MemDisk ram0 = new MemDisk("ram0", new DevT(1, 0), 2048, true, false);

    @Test
    void resetMakesAnEndedBioANewOneWithoutFlagsOrStatus() {
        MemorySegment buf = MemorySegment.ofArray(new byte[512]);
        Bio bio = Bio.write(0, buf, BioFlag.FUA);
        ram0.disk.submit(bio);
        assertEquals(BlkStatus.OK, bio.await());
        assertSame(bio, bio.reset(BioOp.READ, 8, buf));
        assertFalse(bio.isDone());
        assertEquals("READ sector 8 size 512", bio.toString());
        ram0.disk.submit(bio);
        assertEquals(BlkStatus.OK, bio.await());
        assertEquals(1, ram0.disk.stats().snapshot().readIos(), "accounted again as a new bio");
    }

    @Test
    void aBioInFlightOrNeverSubmittedIsNotReset() {
        Bio bio = Bio.read(0, MemorySegment.ofArray(new byte[512]));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> bio.reset(BioOp.WRITE, 8, bio.data()));
        assertEquals("bio in flight (or never submitted): READ sector 0 size 512", e.getMessage());
        assertEquals(0, bio.sector(), "refused: nothing changed");
        assertThrows(IllegalArgumentException.class, () -> Bio.flush().reset(BioOp.FLUSH, 0, null));
    }

    @Test
    void uninitLetsGoOfTheBufferAndTheBioStaysEnded() {
        Bio bio = Bio.read(0, MemorySegment.ofArray(new byte[512]));
        assertThrows(IllegalStateException.class, bio::uninit, "not ended");
        bio.setEndIo((b, s) -> {});
        bio.keepClone(bio.clone(0, 512));
        bio.endio(BlkStatus.OK);
        bio.uninit();
        assertNull(bio.data());
        assertNull(bio.keptClone(), "nor does it keep a stacking driver's clone, which holds the buffer too");
        assertTrue(bio.isDone());
        bio.initClone(Bio.write(8, MemorySegment.ofArray(new byte[512])), 0, 512);
        assertEquals("WRITE sector 8 size 512", bio.toString());
    }

    @Test
    void initCloneCopiesTheSourceAndUsesItsBufferWhenWhole() {
        MemorySegment buf = MemorySegment.ofArray(new byte[1024]);
        Bio src = Bio.write(16, buf, BioFlag.PREFLUSH);
        Bio clone = src.clone(512, 512);
        clone.endio(BlkStatus.OK);
        clone.setHandBack((b, from) -> {});
        clone.initClone(src, 0, 1024);
        assertSame(buf, clone.data(), "no slice for the whole bio");
        assertEquals(Set.of(BioFlag.PREFLUSH), clone.flags());
        assertEquals(16, clone.sector());
        assertNull(clone.handBack());
        assertFalse(clone.isDone());
        assertThrows(IllegalStateException.class, () -> clone.initClone(src, 512, 512), "in flight again: not reused");
    }
}
