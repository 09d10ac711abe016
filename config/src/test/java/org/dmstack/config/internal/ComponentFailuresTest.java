package org.dmstack.config.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

class ComponentFailuresTest {
    /** What Felix SCR records when a configuration annotation's int is not a number (nbd.cfg: port = notaport). */
    private static final String NBD_PORT = """
            org.osgi.service.component.ComponentException: java.lang.NumberFormatException: For input string: "notaport"
            \tat org.apache.felix.scr.impl.inject.internal.Annotations$Handler.invoke(Annotations.java:379)
            \tat jdk.proxy5/jdk.proxy5.$Proxy6.port(Unknown Source)
            \tat org.dmstack.nbd.internal.NbdExportComponent.activate(NbdExportComponent.java:54)
            """;

    @Test
    void theReasonIsTheInnermostMessageWithoutExceptionNames() {
        assertEquals("Invalid NVDIMM 'bogus:12': kind 'bogus' is not pmem or volatile",
                ComponentFailures.reason("java.lang.IllegalArgumentException: Invalid NVDIMM 'bogus:12': kind 'bogus' is not pmem or volatile\n\tat x.Y.z(Y.java:1)\n"));
        assertEquals("port: not a number: \"notaport\"", ComponentFailures.reason(NBD_PORT));
        assertEquals("hold_timeout_ms: not a number: \"x\"", ComponentFailures.reason(NBD_PORT.replace("notaport", "x").replace("$Proxy6.port", "$Proxy4.hold__timeout__ms")));
        assertEquals("cannot map /data/pmem.img: Permission denied", ComponentFailures.reason(
                "java.lang.IllegalStateException: pmem: failed\n\tat a.B.c(B.java:1)\nCaused by: java.io.IOException: cannot map /data/pmem.img: Permission denied\n\tat d.E.f(E.java:2)\n"));
        assertEquals("java.lang.NullPointerException", ComponentFailures.reason("java.lang.NullPointerException\n\tat a.B.c(B.java:1)\n"));
        assertEquals("the component failed to start", ComponentFailures.reason(null));
    }

    @Test
    void aRefusedConfigurationIsReportedByItsFileUntilItStartsAgain() {
        ServiceComponentRuntime scr = mock(ServiceComponentRuntime.class);
        ComponentDescriptionDTO nbd = new ComponentDescriptionDTO();
        nbd.name = "org.dmstack.nbd.internal.NbdExportComponent";
        ComponentConfigurationDTO failed = new ComponentConfigurationDTO();
        failed.id = 7;
        failed.state = ComponentConfigurationDTO.FAILED_ACTIVATION;
        failed.failure = NBD_PORT;
        failed.properties = Map.of("service.pid", "org.dmstack.nbd", "dmstack.config.file", "/srv/etc/nbd.cfg");
        when(scr.getComponentDescriptionDTOs()).thenReturn(List.of(nbd));
        when(scr.getComponentConfigurationDTOs(nbd)).thenReturn(List.of(failed));

        ComponentFailures f = new ComponentFailures(scr);
        assertTrue(f.scan());
        assertEquals(Map.of("nbd.cfg", "port: not a number: \"notaport\""), f.refused());
        assertFalse(f.scan(), "nothing new");

        ComponentConfigurationDTO active = new ComponentConfigurationDTO();
        active.id = 8;
        active.state = ComponentConfigurationDTO.ACTIVE;
        active.properties = Map.of("service.pid", "org.dmstack.nbd", "dmstack.config.file", "/srv/etc/nbd.cfg");
        when(scr.getComponentConfigurationDTOs(nbd)).thenReturn(List.of(active));
        assertTrue(f.scan());
        assertEquals(Map.of(), f.refused());
    }
}
