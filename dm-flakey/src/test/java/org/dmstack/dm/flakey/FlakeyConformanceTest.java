package org.dmstack.dm.flakey;

import java.util.stream.Stream;
import org.dmstack.testkit.TargetConformance;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * flakey passes the conformance suite while it is up: the clock stands still at its start, so
 * every check applies and flakey must behave as linear does.
 *
 * <p>While down, the checks that write and read back (maps inside its devices, multi-sector bios,
 * flushes reach every device, suspend and resume lose nothing) do not apply: dropping, failing or
 * corrupting I/O is what flakey is for, so an acknowledged write may be lost on purpose
 * (drop_writes) and a read may fail or differ. FlakeyTargetTypeTest checks that behaviour byte
 * for byte instead. The DAX check finds no DAX: 6.1's flakey has no direct_access, so the mapped
 * device has none. Table output, construction errors and the features all still apply and are
 * checked with every feature on the line.
 */
class FlakeyConformanceTest {
    private static final long NOW = 5_000_000_000L;

    @TestFactory
    Stream<DynamicTest> upWithoutFeatures() {
        return TargetConformance.of(new FlakeyTargetType(() -> NOW), "0 1024 flakey ram0 2048 60 1\n1024 3072 flakey ram1 1024 1 0")
                .badTables("0 8 flakey ram0 0 0 0", "0 8 flakey ram0 0 1 1 1 error_reads", "0 8 flakey ram0 0 1 1 2 drop_writes error_writes")
                .tests();
    }

    @TestFactory
    Stream<DynamicTest> upWithEveryFeature() {
        return TargetConformance.of(new FlakeyTargetType(() -> NOW),
                "0 2048 flakey ram0 0 10 10 1 drop_writes\n2048 2048 flakey ram1 0 10 10 6 corrupt_bio_byte 32 r 1 0 error_writes").tests();
    }
}
