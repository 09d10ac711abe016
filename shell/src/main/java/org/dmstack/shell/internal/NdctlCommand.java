package org.dmstack.shell.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.felix.service.command.Descriptor;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.nvdimm.Namespaces;
import org.dmstack.shell.Ndctl;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/** {@code ndctl} in Gogo: follows the NFIT platforms and the pmem driver as they come and go. */
@Component(service = NdctlCommand.class, property = {"osgi.command.scope=dmstack", "osgi.command.function=ndctl"})
public final class NdctlCommand {
    private final List<NfitPlatform> platforms = new CopyOnWriteArrayList<>();
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile Namespaces pmem;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addPlatform(NfitPlatform platform) {
        platforms.add(platform);
    }

    void removePlatform(NfitPlatform platform) {
        platforms.remove(platform);
    }

    @Descriptor("list the NVDIMM platform as ndctl's JSON (list -R -N -D -M -u); inject-error into a namespace")
    public void ndctl(@Descriptor("the command's arguments, as ndctl takes them (--help for the usage)") String... args) {
        new Ndctl(() -> List.copyOf(platforms), pmem).run(List.of(args), System.out);
    }
}
