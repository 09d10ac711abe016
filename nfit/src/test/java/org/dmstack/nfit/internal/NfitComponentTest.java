package org.dmstack.nfit.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.io.IOException;
import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import org.dmstack.nfit.EmulatedPlatform;
import org.dmstack.nvdimm.MediaErrorListener;
import org.dmstack.nfit.NfitException;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mockito.ArgumentCaptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceFactory;
import org.osgi.framework.ServiceRegistration;

/** The DS component publishes one Region service per region and withdraws them on deactivation. */
class NfitComponentTest {
    @TempDir
    Path dir;

    private static NfitComponent.Config config(String[] nvdimms, String persistence, String[] poison, String table,
            String[] backing) {
        return new NfitComponent.Config() {
            @Override public Class<? extends Annotation> annotationType() { return NfitComponent.Config.class; }
            @Override public String[] nvdimms() { return nvdimms; }
            @Override public String persistence() { return persistence; }
            @Override public String[] poison() { return poison; }
            @Override public String table() { return table; }
            @Override public String[] backing() { return backing; }
        };
    }

    private static final String[] NONE = {};

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static BundleContext context(List<ServiceRegistration<?>> registrations) {
        BundleContext ctx = mock(BundleContext.class);
        org.mockito.stubbing.Answer<ServiceRegistration> register = inv -> {
            ServiceRegistration reg = mock(ServiceRegistration.class);
            registrations.add(reg);
            return reg;
        };
        when(ctx.registerService(any(Class.class), any(Object.class), any(Dictionary.class))).thenAnswer(register);
        when(ctx.<Region>registerService(eq(Region.class), (ServiceFactory<Region>) any(ServiceFactory.class), any(Dictionary.class))).thenAnswer(register);
        return ctx;
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void emulatedPlatformPublishesRegionsAndWithdrawsThem() throws Exception {
        List<ServiceRegistration<?>> regs = new ArrayList<>();
        BundleContext ctx = context(regs);
        NfitComponent c = new NfitComponent();
        c.activate(config(new String[] {"pmem:64M:" + dir.resolve("p0"), "pmem:64M:" + dir.resolve("p1") + ",volatile:16M"},
                "cpu", new String[] {"region1:0:512"}, "", NONE), ctx, Map.of("service.pid", "org.dmstack.nfit.abc"));

        ArgumentCaptor<ServiceFactory> regions = ArgumentCaptor.forClass(ServiceFactory.class);
        ArgumentCaptor<Dictionary> props = ArgumentCaptor.forClass(Dictionary.class);
        verify(ctx, times(3)).registerService(eq(Region.class), regions.capture(), props.capture());
        verify(ctx).registerService(eq(NfitPlatform.class), any(NfitPlatform.class), any(Dictionary.class));
        List<Region> published = regions.getAllValues().stream().map(f -> (Region) f.getService(null, null)).toList();
        assertEquals(List.of(Region.Type.PERSISTENT, Region.Type.PERSISTENT, Region.Type.VOLATILE),
                published.stream().map(Region::type).toList());
        assertEquals(List.of(new Region.PoisonRange(0, 512)), published.get(1).poison());
        Dictionary<String, Object> p0 = props.getAllValues().getFirst();
        assertEquals(published.getFirst().name(), p0.get("region.name"));
        assertEquals("persistent", p0.get("region.type"));
        assertEquals(64L << 20, p0.get("region.size"));
        assertEquals("org.dmstack.nfit.abc", p0.get("nfit.platform"));

        // A driver binding later (a pmem bundle update) gets the region as it is now.
        c.platform().setReadOnly(published.get(1).name(), true);
        c.platform().injectError(published.get(1).name(), 4096, 512);
        Region now = (Region) regions.getAllValues().get(1).getService(null, null);
        assertTrue(now.readOnly());
        assertEquals(List.of(new Region.PoisonRange(0, 512), new Region.PoisonRange(4096, 512)), now.poison());

        c.deactivate();
        for (ServiceRegistration<?> r : regs) verify(r).unregister();
        assertNull(c.platform());
    }

    @Test
    void twoPlatformsGetDistinctRegionNames() throws Exception {
        NfitComponent a = new NfitComponent();
        NfitComponent b = new NfitComponent();
        a.activate(config(new String[] {"volatile:4M", "volatile:4M"}, "", NONE, "", NONE), context(new ArrayList<>()), Map.of());
        b.activate(config(new String[] {"volatile:4M"}, "", NONE, "", NONE), context(new ArrayList<>()), Map.of());
        List<String> names = new ArrayList<>();
        a.platform().regions().forEach(r -> names.add(r.name()));
        b.platform().regions().forEach(r -> names.add(r.name()));
        assertEquals(3, names.stream().distinct().count(), names.toString());
        a.deactivate();
        b.deactivate();
    }

    @Test
    void realTableWithBackings() throws Exception {
        Path table = dir.resolve("NFIT");
        Files.write(table, EmulatedPlatform.fromConfig(List.of("pmem:8M:/unused", "volatile:8M"), "mem-ctrl", List.of()).toBinary());
        NfitComponent c = new NfitComponent();
        c.activate(config(NONE, "", new String[] {"0x100000000:4096"}, table.toString(),
                new String[] {dir.resolve("pm").toString(), "anonymous"}), context(new ArrayList<>()), Map.of());
        List<Region> regions = c.platform().regions();
        assertEquals(Region.Backing.file(dir.resolve("pm"), true), regions.get(0).backing());
        assertTrue(regions.get(1).backing().isAnonymous());
        assertEquals(Region.PersistenceDomain.MEMORY_CONTROLLER, regions.get(0).persistenceDomain());
        assertEquals(List.of(new Region.PoisonRange(0, 4096)), regions.get(0).poison());
        c.deactivate();
    }

    @Test
    void listenersHearInjectedErrors() throws Exception {
        NfitComponent c = new NfitComponent();
        MediaErrorListener early = mock(MediaErrorListener.class);
        c.addMediaErrorListener(early);
        c.activate(config(new String[] {"pmem:8M:" + dir.resolve("p")}, "", NONE, "", NONE), context(new ArrayList<>()), Map.of());
        MediaErrorListener late = mock(MediaErrorListener.class);
        c.addMediaErrorListener(late);
        String name = c.platform().regions().getFirst().name();
        Region r = c.platform().injectError(name, 0, 512);
        verify(early).poisonInjected(r, new Region.PoisonRange(0, 512));
        verify(late).poisonInjected(r, new Region.PoisonRange(0, 512));
        c.deactivate();
    }

    @Test
    void badConfigurationsFailActivationWithTheReason() {
        NfitComponent c = new NfitComponent();
        BundleContext ctx = context(new ArrayList<>());
        assertEquals("NFIT: the configuration names no nvdimms and no table", assertThrows(NfitException.class,
                () -> c.activate(config(NONE, "", NONE, "", NONE), ctx, Map.of())).getMessage());
        assertTrue(assertThrows(NfitException.class, () -> c.activate(config(new String[] {"volatile:1G"}, "", NONE,
                "/x", NONE), ctx, Map.of())).getMessage().contains("not both"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.activate(config(new String[] {"pmem:1G"}, "",
                NONE, "", NONE), ctx, Map.of())).getMessage().contains("needs a backing file"));
        // A table that cannot be read fails activation too.
        NfitComponent ok = new NfitComponent();
        assertThrows(IOException.class, () -> ok.activate(config(NONE, "", NONE, dir.resolve("missing").toString(),
                NONE), ctx, Map.of()));
    }
}
