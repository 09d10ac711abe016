package org.dmstack.dm.dust;

import java.util.stream.Stream;
import org.dmstack.testkit.TargetConformance;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * dust passes the conformance suite as it starts, in bypass mode with no bad blocks: it must then
 * behave as linear, and its max_io_len (one block) must split bios correctly.
 *
 * <p>With read failures enabled over bad blocks, the checks that read back (maps inside its
 * devices, multi-sector bios, suspend and resume lose nothing) do not apply: failing reads of bad
 * blocks is what dust is for, and a write to a bad block with a write fail count fails on
 * purpose. DustTargetTypeTest checks that behaviour instead. The DAX check finds no DAX: 6.1's
 * dust has no direct_access. A reload builds a new target, so its bad-block list starts empty, as
 * in Linux.
 */
class DustConformanceTest {
    @TestFactory
    Stream<DynamicTest> bypassWithFourKiBBlocks() {
        return TargetConformance.of(new DustTargetType(), "0 1024 dust ram0 2048 4096\n1024 3072 dust ram1 1024 512")
                .badTables("0 1024 dust ram0 0 1000", "0 8 dust ram0 0 8192", "0 8 dust ram0 0 511")
                .tests();
    }
}
