package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** A clone that ends with its parent: one claim for both, and still each end exactly once. */
class BioEndsWithTest {
    private final MemorySegment buf = MemorySegment.ofArray(new byte[512]);

    /** {@code parent}, its end written in {@code log}. */
    private static Bio logged(Bio parent, List<String> log) {
        parent.setEndIo((p, status) -> log.add("parent " + status));
        return parent;
    }

    /** The clone's end callback finishes the parent, as dm's does. */
    private Bio chained(Bio parent, List<String> log) {
        Bio clone = parent.clone(0, parent.size());
        clone.endsWith(parent);
        clone.setEndIo((c, status) -> {
            log.add("clone " + status + ", parent done " + parent.isDone());
            parent.endClaimed(status);
        });
        return clone;
    }

    @Test
    void theClonesEndClaimsTheParentsAndItsCallbackFinishesIt() {
        List<String> log = new ArrayList<>();
        Bio parent = logged(Bio.read(0, buf), log);
        Bio clone = chained(parent, log);
        clone.endio(BlkStatus.ioerr("ram0: gone"));
        assertEquals(List.of("clone IOERR: ram0: gone, parent done false", "parent IOERR: ram0: gone"), log);
        assertTrue(clone.isDone());
        assertEquals(BlkStatus.ioerr("ram0: gone"), parent.await());
    }

    @Test
    void onlyTheFirstEndOfEitherCounts() {
        List<String> log = new ArrayList<>();
        Bio parent = logged(Bio.write(8, buf), log);
        Bio clone = chained(parent, log);
        clone.endio(BlkStatus.OK);
        clone.endio(BlkStatus.ioerr("a driver's second end"));
        parent.endio(BlkStatus.ioerr("and the parent's"));
        parent.endClaimed(BlkStatus.ioerr("and a second finish"));
        assertEquals(List.of("clone OK, parent done false", "parent OK"), log);
        assertEquals(BlkStatus.OK, parent.await());

        Bio other = Bio.write(8, buf);
        Bio late = chained(other, log);
        other.endio(BlkStatus.OK); // the parent ended otherwise first: the clone's end is not counted
        late.endio(BlkStatus.OK);
        assertFalse(late.isDone());
        assertEquals(2, log.size(), "the clone's callback never ran");
    }

    @Test
    void nobodyWaitsOnSuchACloneAndAWaiterOnTheParentIsAnswered() throws Exception {
        List<String> log = new ArrayList<>();
        Bio parent = Bio.read(0, buf);
        Bio clone = chained(parent, log);
        IllegalStateException e = assertThrows(IllegalStateException.class, clone::completion);
        assertEquals("a clone that ends with its parent is not waited on: wait on the parent (READ sector 0 size 512)", e.getMessage());
        CompletableFuture<BlkStatus> waiting = parent.completion().toCompletableFuture();
        Thread ender = new Thread(() -> clone.endio(BlkStatus.OK));
        ender.start();
        assertEquals(BlkStatus.OK, waiting.get());
        ender.join();
    }

    @Test
    void reuseUndoesIt() {
        Bio parent = Bio.read(0, buf);
        Bio clone = chained(parent, new ArrayList<>());
        clone.endio(BlkStatus.OK);
        clone.initClone(Bio.read(8, buf), 0, 512);
        clone.endio(BlkStatus.OK);
        assertTrue(clone.isDone(), "its own end again");
        assertEquals(BlkStatus.OK, clone.completion().toCompletableFuture().join());
    }
}
