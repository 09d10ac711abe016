package org.dmstack.dm.logwrites;

import java.util.stream.Stream;
import org.dmstack.testkit.TargetConformance;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * log-writes passes the whole conformance suite: it changes no data on its way to the device, so
 * every check applies. The log device is not one of the target's data devices (Linux's
 * iterate_devices names only {@code <dev>}), so the checks look at ram0 alone; the log's own
 * writes to ram1 are what the other tests of this module decode. The suite writes far more than
 * one 4096-sector log holds, so the log fills up during its longer checks and logging stops, as in
 * Linux ("Ran out of space on the logdev" in the output): the writes themselves go on unchanged.
 */
class LogWritesConformanceTest {
    @TestFactory
    Stream<DynamicTest> overRam0LoggingToRam1() {
        return TargetConformance.of(new LogWritesTargetType(), "0 512 log-writes ram0 ram1").devices(2, 4096).tests();
    }

    @TestFactory
    Stream<DynamicTest> withoutDax() {
        return TargetConformance.of(new LogWritesTargetType(), "0 512 log-writes ram0 ram1").devices(2, 4096).dax(false).tests();
    }
}
