package org.dmstack.dm.stripe;

import java.util.stream.Stream;
import org.dmstack.testkit.TargetConformance;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** striped passes the conformance suite every target must pass, for power-of-two and other chunk sizes. */
class StripedConformanceTest {
    @TestFactory
    Stream<DynamicTest> twoStripesOf64() {
        return TargetConformance.of(new StripedTargetType(), "0 4096 striped 2 64 ram0 0 ram1 64")
                .badTables("0 4096 striped 0 64 ram0 0", "0 4096 striped 2 0 ram0 0 ram1 0", "0 4000 striped 2 64 ram0 0 ram1 0",
                        "0 4096 striped 3 64 ram0 0 ram1 0")
                .tests();
    }

    @TestFactory
    Stream<DynamicTest> threeStripesOf24AfterALinearStart() {
        return TargetConformance.of(new StripedTargetType(), "0 3600 striped 3 24 ram0 8 ram1 0 ram2 16").tests();
    }

    @TestFactory
    Stream<DynamicTest> fourStripesOf7WithoutDax() {
        return TargetConformance.of(new StripedTargetType(), "0 5600 striped 4 7 ram0 0 ram1 0 ram2 0 ram3 0").dax(false).tests();
    }
}
