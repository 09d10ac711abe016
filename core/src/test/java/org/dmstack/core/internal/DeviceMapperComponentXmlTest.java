package org.dmstack.core.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The configuration property device-mapper reads is the documented hold_timeout_ms. */
class DeviceMapperComponentXmlTest {
    @Test
    void theHoldTimeoutPropertyIsNamedWithUnderscores() throws Exception {
        String xml = Files.readString(Path.of("target/classes/OSGI-INF/org.dmstack.core.internal.DeviceMapperComponent.xml"));
        assertTrue(xml.contains("name=\"hold_timeout_ms\""), xml);
    }
}
