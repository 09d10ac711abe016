package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

class BioRingTest {
    private final MemDisk ram0 = new MemDisk("ram0", new DevT(1, 0), 2048);

    private static MemorySegment buffer(int fill) {
        return MemorySegment.ofArray(new byte[512]).fill((byte) fill);
    }

    /** A disk that ends nothing by itself: its bios wait in {@code pending}. */
    private static GenDisk slowDisk(List<Bio> pending) {
        return GenDisk.builder("slow0", new DevT(250, 0), 2048, pending::add).build();
    }

    /** Queues {@code n} 512-byte reads, read i at sector i of {@code to.apply(i)}, and submits them. */
    private static Bio[] queueReads(BioRing ring, int n, IntFunction<BlockDevice> to) {
        Bio[] reads = new Bio[n];
        for (int i = 0; i < n; i++) ring.queue(to.apply(i), reads[i] = Bio.read(i, MemorySegment.ofArray(new byte[512])));
        ring.submit();
        return reads;
    }

    @Test
    void queuedBiosGoDownOnSubmitInOrderAndComeBackInTheOrderTheyEnded() throws Exception {
        BioRing ring = new BioRing(4);
        Bio[] writes = {Bio.write(0, buffer(1)), Bio.write(0, buffer(2)), Bio.write(0, buffer(3))};
        for (Bio w : writes) ring.queue(ram0.disk, w);
        assertEquals(3, ring.queued());
        assertEquals(0, ram0.writes.get(), "queued, not sent");
        assertEquals(3, ring.submit());
        assertEquals(3, ram0.disk.stats().snapshot().writeIos());
        assertEquals(3, ram0.read(0, 1)[0], "the last one queued was written last");
        for (Bio w : writes) assertSame(w, ring.take());
        assertNull(ring.poll());
        assertEquals(0, ring.held());
    }

    @Test
    void aFailedBioComesBackWithItsStatus() throws Exception {
        BioRing ring = new BioRing(2);
        ring.queue(ram0.disk, Bio.read(4096, MemorySegment.ofArray(new byte[512])));
        ring.queue(ram0.disk, Bio.read(0, MemorySegment.ofArray(new byte[512])));
        ring.submit();
        Bio beyond = ring.take();
        assertEquals(BlkStatus.ioerr("attempt to access beyond end of device ram0: rw=0, sector=4096, nr_sectors = 1 limit=2048"), beyond.await());
        assertEquals(BlkStatus.OK, ring.take().await());
    }

    @Test
    void aFullRingRefusesOneMoreAndChangesNothing() throws Exception {
        BioRing ring = new BioRing(2);
        Bio a = Bio.write(0, buffer(1)), b = Bio.write(1, buffer(2)), c = Bio.write(2, buffer(3));
        ring.queue(ram0.disk, a);
        ring.queue(ram0.disk, b);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ring.queue(ram0.disk, c));
        assertEquals("the ring is full: 2 bios queued, in flight or not reaped", e.getMessage());
        assertEquals(2, ring.submit());
        // Ended but not reaped still count: their places are free only once reaped.
        assertThrows(IllegalStateException.class, () -> ring.queue(ram0.disk, c));
        assertSame(a, ring.poll());
        ring.queue(ram0.disk, c);
        ring.submit();
        assertSame(b, ring.poll());
        assertSame(c, ring.poll());
        assertArrayEquals(new byte[] {1, 2, 3}, new byte[] {ram0.read(0, 1)[0], ram0.read(512, 1)[0], ram0.read(1024, 1)[0]});
    }

    @Test
    void bioEndedOnAnotherThreadWakesTheReaper() throws Exception {
        List<Bio> pending = new ArrayList<>();
        GenDisk slow = slowDisk(pending);
        BioRing ring = new BioRing(8);
        Bio[] reads = queueReads(ring, 8, i -> slow);
        assertNull(ring.poll(), "nothing has ended");
        assertNull(ring.poll(1, TimeUnit.MILLISECONDS));
        Thread ender = new Thread(() -> {
            for (int i = pending.size() - 1; i >= 0; i--) pending.get(i).endio(BlkStatus.OK);
        });
        ender.start();
        for (int i = reads.length - 1; i >= 0; i--) assertSame(reads[i], ring.take(), "in the order they ended");
        ender.join();
        assertNull(ring.take(), "nothing left in flight: take does not wait");
    }

    @Test
    void biosEndedByTheOwnerComeFirstThenThoseOfOtherThreadsInTheirOrder() throws Exception {
        List<Bio> pending = new ArrayList<>();
        GenDisk slow = slowDisk(pending);
        BioRing ring = new BioRing(4);
        Bio[] reads = queueReads(ring, 4, i -> i % 2 == 0 ? slow : ram0.disk); // ram0 ends reads 1 and 3 at once, on this thread
        Thread ender = new Thread(() -> {
            pending.get(1).endio(BlkStatus.OK);
            pending.get(0).endio(BlkStatus.OK);
        });
        ender.start();
        ender.join();
        assertSame(reads[1], ring.take());
        assertSame(reads[3], ring.take());
        assertSame(reads[2], ring.take());
        assertSame(reads[0], ring.take());
        assertNull(ring.poll());
        assertEquals(0, ring.held());
    }

    @Test
    void reapTakesWhatHasEndedAndAReapedBioIsReusedWithReset() {
        BioRing ring = new BioRing(4);
        Bio bio = Bio.write(0, buffer(9));
        ring.queue(ram0.disk, bio);
        ring.submit();
        Bio[] out = new Bio[4];
        assertEquals(1, ring.reap(out));
        assertSame(bio, out[0]);
        ring.queue(ram0.disk, bio.reset(BioOp.READ, 0, MemorySegment.ofArray(new byte[512])));
        ring.submit();
        assertEquals(1, ring.reap(out));
        assertEquals(9, bio.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
        assertEquals(1, ram0.disk.stats().snapshot().readIos());
    }

    @Test
    void submitIsAPlugWhoseCallbacksRunOnceWhenTheBatchHasGoneDown() {
        BioRing ring = new BioRing(4);
        List<String> seen = new ArrayList<>();
        Runnable unplug = () -> seen.add("unplug after " + ram0.writes.get() + " writes");
        // A driver that meets a bio of the batch registers once; the callback runs after the last bio.
        GenDisk batching = GenDisk.builder("batch0", new DevT(251, 0), 2048, bio -> {
            BioRing plug = bio.plug();
            assertSame(ring, plug, "a bio sent by the ring's submit, on its thread");
            if (seen.isEmpty()) plug.onUnplug(unplug);
            seen.add("bio " + bio.sector());
            ram0.disk.submit(bio);
        }).build();
        for (int i = 0; i < 3; i++) ring.queue(batching, Bio.write(i, buffer(i)));
        assertEquals(3, ring.submit());
        assertEquals(List.of("bio 0", "bio 1", "bio 2", "unplug after 3 writes"), seen);
        assertNull(ring.poll().plug(), "reaped: no longer being sent");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ring.onUnplug(unplug));
        assertEquals("not inside this ring's submit on this thread", e.getMessage());
        ring.submit();
        assertEquals(4, seen.size(), "a batch runs what was registered for it, and no more");
    }

    @Test
    void aBioFromOutsideARingHasNoPlug() {
        Bio[] inside = new Bio[1];
        GenDisk taking = GenDisk.builder("take0", new DevT(251, 1), 2048, bio -> {
            inside[0] = bio;
            bio.endio(BlkStatus.OK);
        }).build();
        taking.submit(Bio.write(0, buffer(1)));
        assertNull(inside[0].plug());
    }

    @Test
    void anUnplugCallbackThatThrowsLetsTheOthersRunAndIsReported() {
        BioRing ring = new BioRing(1);
        List<String> ran = new ArrayList<>();
        GenDisk batching = GenDisk.builder("batch1", new DevT(251, 2), 2048, bio -> {
            bio.plug().onUnplug(() -> {
                throw new IllegalStateException("broken driver");
            });
            bio.plug().onUnplug(() -> ran.add("second"));
            bio.endio(BlkStatus.OK);
        }).build();
        ring.queue(batching, Bio.write(0, buffer(1)));
        IllegalStateException e = assertThrows(IllegalStateException.class, ring::submit);
        assertEquals("broken driver", e.getMessage());
        assertEquals(List.of("second"), ran);
        assertEquals(BlkStatus.OK, ring.poll().await());
    }

    @Test
    void refusesASizeItCannotHave() {
        assertEquals("entries must be 1 to 1048576, not 0", assertThrows(IllegalArgumentException.class, () -> new BioRing(0)).getMessage());
    }
}
