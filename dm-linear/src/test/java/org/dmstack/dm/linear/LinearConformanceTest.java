package org.dmstack.dm.linear;

import java.util.stream.Stream;
import org.dmstack.testkit.TargetConformance;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** linear passes the conformance suite every target must pass. */
class LinearConformanceTest {
    @TestFactory
    Stream<DynamicTest> twoLinesOverTwoDevices() {
        return TargetConformance.of(new LinearTargetType(), "0 1024 linear ram0 2048\n1024 3072 linear ram1 1024")
                .badTables("0 8 linear ram0 4096", "0 8 linear ram0 -1", "0 8 linear ram0 0 extra")
                .tests();
    }

    @TestFactory
    Stream<DynamicTest> withoutDax() {
        return TargetConformance.of(new LinearTargetType(), "0 2048 linear ram0 0").dax(false).tests();
    }
}
