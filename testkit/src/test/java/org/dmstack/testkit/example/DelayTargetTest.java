package org.dmstack.testkit.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.testkit.MockDevices;
import org.dmstack.testkit.RecordingDevice;
import org.dmstack.testkit.TargetConformance;
import org.dmstack.testkit.TargetHarness;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** A complete new target's tests: the constructor, the mapping, and the conformance suite. */
class DelayTargetTest {
    private final BlockDevice ram0 = MockDevices.device("ram0", 1, 0, 2048);

    @TestFactory
    Stream<DynamicTest> conformance() {
        return TargetConformance.of(new DelayTarget.Type(), "0 1024 delay ram0 64 0\n1024 2048 delay ram1 8 0").tests();
    }

    @Test
    void constructorErrors() {
        try (TargetHarness h = TargetHarness.of(new DelayTarget.Type()).with(ram0)) {
            assertEquals("Invalid argument count", h.constructError("0 8 delay ram0 0"));
            assertEquals("Invalid device offset", h.constructError("0 8 delay ram0 x 5"));
            assertEquals("Invalid delay", h.constructError("0 8 delay ram0 0 -1"));
            assertEquals("Device lookup failed: ram9: No such device", h.constructError("0 8 delay ram9 0 5"));
        }
    }

    @Test
    void mapsLikeLinearAndPrintsItsTable() throws Exception {
        try (TargetHarness h = TargetHarness.of(new DelayTarget.Type()).with(ram0)) {
            Target t = h.construct("100 8 delay ram0 64 0");
            Bio bio = Bio.read(104, Arena.ofAuto().allocate(512));
            assertEquals(MapResult.REMAPPED, t.map(bio));
            assertEquals(68, bio.sector());
            assertEquals("1:0 64 0", t.status(StatusType.TABLE));
        }
    }

    @Test
    void holdsIoForTheDelay() throws Exception {
        RecordingDevice disk = RecordingDevice.builder("ram1", 1, 1).build();
        try (TargetHarness h = TargetHarness.of(new DelayTarget.Type()).with(disk)) {
            BlockDevice md = h.create("0 16 delay ram1 0 200").disk();
            Bio write = Bio.write(0, Arena.ofAuto().allocate(512));
            md.submit(write);
            assertFalse(write.isDone(), "still waiting out its delay");
            assertEquals(BlkStatus.OK, write.await());
            assertEquals(List.of(new RecordingDevice.RecordedBio(BioOp.WRITE, 0, 1, Set.of())), disk.bios());
        }
    }
}
