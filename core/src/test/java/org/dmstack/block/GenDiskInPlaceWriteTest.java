package org.dmstack.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** GenDisk's checks around a driver's {@link InPlaceWrite}: a bio's checks, a bio's accounting, nothing once withdrawn. */
class GenDiskInPlaceWriteTest {
    private final List<String> ends = new ArrayList<>();

    private final InPlaceWrite driver = (offset, bytes, into) -> {
        into.accept(MemorySegment.ofArray(new byte[(int) bytes]));
        return new InPlaceWrite.Staged() {
            @Override
            public boolean commit() {
                ends.add("commit " + offset);
                return true;
            }

            @Override
            public void abort() {
                ends.add("abort " + offset);
            }
        };
    };

    /** 1 MiB, 4 KiB logical blocks, accounting its bios as a disk with queue/iostats set. */
    private GenDisk disk() {
        return GenDisk.builder("pmem1", new DevT(259, 1), 2048, bio -> bio.endio(BlkStatus.OK)).limits(QueueLimits.of(4096, 4096))
                .accounting(IoAccounting.IOSTATS, true).inPlaceWrite(driver).build();
    }

    @Test
    void aCommittedWriteCountsAsAWriteBioAndAnAbortedOneAsNothing() {
        GenDisk disk = disk();
        InPlaceWrite.Staged staged = disk.inPlaceWrite().stage(4096, 8192, m -> {});
        assertEquals(0, disk.stats().snapshot().writeIos(), "nothing written yet");
        assertTrue(staged.commit());
        assertEquals(1, disk.stats().snapshot().writeIos());
        assertEquals(16, disk.stats().snapshot().writeSectors());
        disk.inPlaceWrite().stage(0, 4096, m -> {}).abort();
        assertEquals(1, disk.stats().snapshot().writeIos(), "an aborted staging wrote nothing");
        assertEquals(List.of("commit 4096", "abort 0"), ends);
    }

    @Test
    void whatABioWouldBeRefusedIsNotStaged() {
        GenDisk disk = disk();
        assertNull(disk.inPlaceWrite().stage(512, 4096, m -> {}), "not aligned to the logical block size");
        assertNull(disk.inPlaceWrite().stage(0, 512, m -> {}));
        assertNull(disk.inPlaceWrite().stage(1 << 20, 4096, m -> {}), "beyond the end");
        assertNull(disk.inPlaceWrite().stage(0, 0, m -> {}));
        assertEquals(List.of(), ends);
    }

    @Test
    void onceWithdrawnACommitFailsAndNothingIsStaged() {
        GenDisk disk = disk();
        InPlaceWrite.Staged late = disk.inPlaceWrite().stage(0, 4096, m -> {});
        disk.del();
        assertFalse(late.commit(), "its bio would have been handed back");
        late.abort();
        assertNull(disk.inPlaceWrite().stage(0, 4096, m -> {}));
        assertEquals(List.of("abort 0"), ends);
        assertEquals(0, disk.stats().snapshot().writeIos());
    }

    @Test
    void aReadOnlyDiskStagesNothingAndACommitAfterItBecameReadOnlyFails() {
        GenDisk disk = disk();
        InPlaceWrite.Staged late = disk.inPlaceWrite().stage(0, 4096, m -> {});
        disk.setReadOnly(true);
        assertFalse(late.commit(), "its bio is refused, and says why");
        late.abort();
        assertNull(disk.inPlaceWrite().stage(0, 4096, m -> {}));
        disk.setReadOnly(false);
        assertTrue(disk.inPlaceWrite().stage(0, 4096, m -> {}).commit());
        assertEquals(List.of("abort 0", "commit 0"), ends);
    }

    @Test
    void aDriverThatStagesNothingHasNone() {
        assertNull(GenDisk.builder("ram0", new DevT(1, 0), 2048, bio -> {}).build().inPlaceWrite());
    }
}
