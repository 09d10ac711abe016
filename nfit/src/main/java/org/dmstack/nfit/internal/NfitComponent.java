package org.dmstack.nfit.internal;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.dmstack.nfit.EmulatedPlatform;
import org.dmstack.nvdimm.MediaErrorListener;
import org.dmstack.nfit.Nfit;
import org.dmstack.nfit.NfitException;
import org.dmstack.nfit.NfitParser;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.nfit.Subtable;
import org.dmstack.nvdimm.Region;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceFactory;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One NVDIMM platform per factory configuration of {@code org.dmstack.nfit}: either emulated
 * ({@code nvdimms}, {@code persistence}, {@code poison}) or a real table ({@code table},
 * {@code backing}, {@code poison}). On activation it builds the NFIT (emulated: written, then
 * parsed back), registers the {@link NfitPlatform} and one {@link Region} service per region;
 * on deactivation (configuration deleted or changed, bundle stopped) it unregisters them, which
 * is what tells the pmem driver to remove its devices.
 *
 * <p>Region service properties: {@code region.name} ("region0"), {@code region.id},
 * {@code region.type} ("persistent" / "volatile"), {@code region.size} (bytes, Long),
 * {@code nfit.platform} (the configuration's PID).
 */
@Designate(ocd = NfitComponent.Config.class, factory = true)
@Component(configurationPid = NfitComponent.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
public class NfitComponent {
    public static final String PID = "org.dmstack.nfit";
    private static final Logger LOG = LoggerFactory.getLogger(NfitComponent.class);
    private static final IdAllocator REGION_IDS = new IdAllocator();
    private static final IdAllocator DIMM_IDS = new IdAllocator();

    @ObjectClassDefinition(name = "dmstack NVDIMM platform (NFIT)",
            description = "An emulated NVDIMM platform (nvdimms, persistence) or a real NFIT table (table, backing).")
    public @interface Config {
        @AttributeDefinition(description = "Emulated NVDIMMs, KIND:SIZE[:PATH]: pmem:4G:/var/lib/dmstack/pmem0, volatile:1G")
        String[] nvdimms() default {};

        @AttributeDefinition(description = "QEMU's nvdimm-persistence: mem-ctrl or cpu; empty for none")
        String persistence() default "";

        @AttributeDefinition(description = "Address-range-scrub results: ADDRESS:LENGTH (system physical) or regionN:OFFSET:LENGTH")
        String[] poison() default {};

        @AttributeDefinition(description = "An NFIT binary, such as a copy of /sys/firmware/acpi/tables/NFIT")
        String table() default "";

        @AttributeDefinition(description = "With table: one backing per region, in region order: a file path, or 'anonymous' (volatile only)")
        String[] backing() default {};
    }

    private final List<MediaErrorListener> listeners = new CopyOnWriteArrayList<>();
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private NfitPlatform platform;
    private int firstRegion;
    private int regionCount;
    private int firstDimm;
    private int dimmCount;

    /** Called by DS when a media-error listener (the pmem driver) appears; it also hears about injections. */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addMediaErrorListener(MediaErrorListener listener) {
        listeners.add(listener);
        NfitPlatform p = platform;
        if (p != null) p.addMediaErrorListener(listener);
    }

    void removeMediaErrorListener(MediaErrorListener listener) {
        listeners.remove(listener);
        NfitPlatform p = platform;
        if (p != null) p.removeMediaErrorListener(listener);
    }

    /** Called by DS when the configuration arrives or changes: builds the platform and publishes its regions. */
    @Activate
    void activate(Config config, BundleContext context, Map<String, Object> properties) throws IOException {
        String pid = String.valueOf(properties.getOrDefault("service.pid", PID));
        try {
            Build b = build(config);
            regionCount = b.regions;
            dimmCount = b.dimms;
            firstRegion = REGION_IDS.allocate(regionCount);
            firstDimm = DIMM_IDS.allocate(dimmCount);
            platform = b.create(firstRegion, firstDimm);
        } catch (RuntimeException | IOException e) {
            releaseIds();
            // Declarative Services records the refusal; the config folder reports it in one line.
            throw e;
        }
        for (MediaErrorListener l : listeners) platform.addMediaErrorListener(l);
        Hashtable<String, Object> pprops = new Hashtable<>();
        pprops.put("nfit.platform", pid);
        registrations.add(context.registerService(NfitPlatform.class, platform, pprops));
        for (Region r : platform.regions()) {
            Hashtable<String, Object> props = new Hashtable<>();
            props.put("region.name", r.name());
            props.put("region.id", r.id());
            props.put("region.type", r.type() == Region.Type.PERSISTENT ? "persistent" : "volatile");
            props.put("region.size", r.size());
            props.put("nfit.platform", pid);
            registrations.add(context.registerService(Region.class, new CurrentRegion(platform, r.name()), props));
            LOG.info("NFIT {}: {} {} bytes at 0x{} ({}, persistence domain {})", pid, r.name(), r.size(),
                    Long.toHexString(r.spaStart()), r.type(), r.persistenceDomain());
        }
    }

    /**
     * A region service gives the region as it is when a driver binds it: a pmem driver updated
     * after errors were injected or read_only was written gets them too, as a rebound Linux driver
     * finds its nd_region as it was left.
     */
    private record CurrentRegion(NfitPlatform platform, String name) implements ServiceFactory<Region> {
        @Override
        public Region getService(Bundle bundle, ServiceRegistration<Region> registration) {
            return platform.region(name).orElseThrow();
        }

        @Override
        public void ungetService(Bundle bundle, ServiceRegistration<Region> registration, Region service) {}
    }

    /** Called by DS when the configuration goes away or the bundle stops: withdraws the regions. */
    @Deactivate
    void deactivate() {
        for (int i = registrations.size() - 1; i >= 0; i--) {
            try {
                registrations.get(i).unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregistered it already (bundle stopping)
            }
        }
        registrations.clear();
        platform = null;
        releaseIds();
    }

    private void releaseIds() {
        REGION_IDS.release(firstRegion, regionCount);
        DIMM_IDS.release(firstDimm, dimmCount);
        regionCount = 0;
        dimmCount = 0;
    }

    /** The platform this component published, or null when inactive. */
    NfitPlatform platform() {
        return platform;
    }

    /** A configuration read and checked, before ids are allocated. */
    private record Build(Nfit nfit, List<Region.Backing> backings, List<NfitPlatform.SpaPoison> poison, int regions,
            int dimms) {
        NfitPlatform create(int firstRegion, int firstDimm) {
            return new NfitPlatform(nfit, backings, poison, firstRegion, firstDimm);
        }
    }

    static Build build(Config config) throws IOException {
        List<String> nvdimms = split(config.nvdimms());
        String table = config.table() == null ? "" : config.table().trim();
        if (!nvdimms.isEmpty() && !table.isEmpty()) {
            throw new NfitException("give either nvdimms (an emulated platform) or table (a real NFIT), not both");
        }
        if (nvdimms.isEmpty() && table.isEmpty()) {
            throw new NfitException("the configuration names no nvdimms and no table");
        }
        Nfit nfit;
        List<Region.Backing> backings;
        List<NfitPlatform.SpaPoison> poison;
        if (!nvdimms.isEmpty()) {
            EmulatedPlatform e = EmulatedPlatform.fromConfig(nvdimms, config.persistence(), split(config.poison()));
            nfit = NfitParser.parse(e.toBinary());
            backings = e.backings();
            poison = e.poison();
        } else {
            try {
                nfit = NfitParser.parse(Path.of(table));
            } catch (NoSuchFileException e) {
                throw new NoSuchFileException(table, null, "cannot read the NFIT table: no such file");
            }
            backings = new ArrayList<>();
            for (String s : split(config.backing())) {
                backings.add(s.equalsIgnoreCase("anonymous") ? Region.Backing.anonymous()
                        : Region.Backing.file(Path.of(s), true));
            }
            poison = split(config.poison()).stream().map(NfitPlatform.SpaPoison::parse).toList();
        }
        int regions = (int) nfit.all(Subtable.SpaRange.class).stream().filter(s -> s.rangeType().isRegion()).count();
        int dimms = (int) nfit.all(Subtable.MemoryMap.class).stream().mapToLong(Subtable.MemoryMap::deviceHandle).distinct().count();
        return new Build(nfit, backings, poison, regions, dimms);
    }

    /** Configuration arrays; an entry may also hold several values separated by commas (.cfg files). */
    private static List<String> split(String[] values) {
        if (values == null) return List.of();
        return Arrays.stream(values).flatMap(v -> Arrays.stream(v.split(","))).map(String::trim)
                .filter(s -> !s.isEmpty()).toList();
    }
}
