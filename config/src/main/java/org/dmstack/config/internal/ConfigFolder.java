package org.dmstack.config.internal;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.felix.fileinstall.ArtifactInstaller;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.config.CfgFiles;
import org.dmstack.config.ConfigFolderStatus;
import org.dmstack.config.TableFiles;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.TargetType;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config folder as FileInstall hands it over: {@code NAME.table} files become mapped devices
 * ({@link TableFiles}) and short-named {@code .cfg} files become configurations
 * ({@link CfgFiles}). It ranks above FileInstall's own configuration installer so that
 * {@code brd.cfg} means PID org.dmstack.brd; other {@code .cfg} files are left to FileInstall.
 *
 * <p>Pending tables are tried again when a device or target type appears, and every half second
 * while any is pending. A {@link ConfigFolderStatus} service tells the launcher what has been
 * applied (service properties {@value ConfigFolderStatus#FILES} and
 * {@value ConfigFolderStatus#PENDING}, {@value ConfigFolderStatus#REFUSED}). A file refused —
 * unreadable, a table the kernel would reject, a configuration its component refused — is
 * logged in one line naming the file.
 */
@Component(service = ArtifactInstaller.class, property = "service.ranking:Integer=100", immediate = true)
public final class ConfigFolder implements ArtifactInstaller {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFolder.class);

    private final TableFiles tables;
    private final BlockDeviceRegistry registry;
    private final ConfigurationAdmin cm;
    private final ScheduledExecutorService executor;
    private final Set<Path> cfgFiles = ConcurrentHashMap.newKeySet();
    private final Map<Path, String> unreadable = new ConcurrentHashMap<>();
    private final ComponentFailures failures;
    private final ServiceRegistration<ConfigFolderStatus> status;
    private final BlockDeviceRegistry.Listener listener = new BlockDeviceRegistry.Listener() {
        @Override
        public void added(BlockDevice device) {
            retrySoon();
        }

        @Override
        public void removed(BlockDevice device) {
            retrySoon();
        }

        /** A device's last opener let go: a removal that was busy may go now. */
        @Override
        public void released(DevT devt) {
            retrySoon();
        }
    };

    @Activate
    public ConfigFolder(@Reference DeviceMapper dm, @Reference BlockDeviceRegistry registry, @Reference ConfigurationAdmin cm,
            @Reference ServiceComponentRuntime scr, BundleContext context) {
        this.tables = new TableFiles(dm);
        this.failures = new ComponentFailures(scr);
        this.registry = registry;
        this.cm = cm;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dmstack-config-folder");
            t.setDaemon(true);
            return t;
        });
        ConfigFolderStatus s = new ConfigFolderStatus(tables);
        this.status = context.registerService(ConfigFolderStatus.class, s, properties());
        tables.onChange(this::publish);
        registry.addListener(listener);
        if (fileInstallRunning(context)) adoptTables(context.getProperty("felix.fileinstall.dir"));
        executor.scheduleWithFixedDelay(() -> {
            if (!tables.pending().isEmpty()) tables.retry();
            if (failures.scan()) publish();
        }, 500, 500, TimeUnit.MILLISECONDS);
    }

    /**
     * Applies every table file of the folder now. When device-mapper (the core bundle) is updated
     * or restarted, its mapped devices go with it and this component starts again with the new
     * one; FileInstall, already running, does not hand over the files it has installed before, so
     * the tables are read here, all of them (should it hand one over too, that changes nothing).
     * At a first start FileInstall is not running yet and hands every file over itself.
     */
    private void adoptTables(String folder) {
        if (folder == null) return;
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(folder))) {
            files = s.filter(p -> TableFiles.handles(p) && Files.isRegularFile(p)).map(Path::toAbsolutePath).sorted().toList();
        } catch (IOException e) {
            LOG.error("{}: cannot list the config folder: {}", folder, TableFiles.readError(e));
            return;
        }
        if (!files.isEmpty()) LOG.info("applying the {} table files of {}", files.size(), folder);
        for (Path p : files) tables.install(p);
    }

    private static boolean fileInstallRunning(BundleContext context) {
        for (Bundle b : context.getBundles()) {
            if ("org.apache.felix.fileinstall".equals(b.getSymbolicName()) && b.getState() == Bundle.ACTIVE) return true;
        }
        return false;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addTargetType(TargetType type) {
        retrySoon();
    }

    void removeTargetType(TargetType type) {
        // Nothing to do: device-mapper holds the I/O of tables that used it.
    }

    private void retrySoon() {
        if (executor.isShutdown()) return;
        // Shortly after, so device-mapper has seen the arrival too.
        executor.schedule(tables::retry, 20, TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean canHandle(File artifact) {
        Path p = artifact.toPath();
        return TableFiles.handles(p) || CfgFiles.target(p) != null;
    }

    @Override
    public void install(File artifact) throws Exception {
        Path p = artifact.toPath().toAbsolutePath();
        if (TableFiles.handles(p)) {
            tables.install(p);
        } else {
            cfgFiles.add(p);
            Dictionary<String, Object> properties;
            try {
                properties = CfgFiles.read(p);
                unreadable.remove(p);
            } catch (IOException e) {
                String why = TableFiles.readError(e);
                unreadable.put(p, why);
                LOG.error("{}: cannot be read: {} (configuration {} unchanged)", p.getFileName(), why, CfgFiles.target(p).pid());
                publish();
                return;
            }
            configuration(p).update(properties);
            LOG.info("{}: configured {}", p.getFileName(), CfgFiles.target(p));
            publish();
            // A component refuses on the configuration-event thread: look soon, not only every half second.
            executor.schedule(() -> {
                if (failures.scan()) publish();
            }, 100, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void update(File artifact) throws Exception {
        install(artifact);
    }

    @Override
    public void uninstall(File artifact) throws Exception {
        Path p = artifact.toPath().toAbsolutePath();
        if (TableFiles.handles(p)) {
            tables.uninstall(p);
        } else {
            configuration(p).delete();
            cfgFiles.remove(p);
            unreadable.remove(p);
            LOG.info("{}: deleted, configuration {} removed", p.getFileName(), CfgFiles.target(p));
            publish();
        }
    }

    private Configuration configuration(Path p) throws IOException {
        CfgFiles.Target t = CfgFiles.target(p);
        return t.instance() == null ? cm.getConfiguration(t.pid(), "?") : cm.getFactoryConfiguration(t.pid(), t.instance(), "?");
    }

    private Dictionary<String, Object> properties() {
        Dictionary<String, Object> d = new Hashtable<>();
        List<String> files = new ArrayList<>();
        for (Path p : tables.files()) files.add(p.toString());
        for (Path p : cfgFiles) files.add(p.toString());
        List<String> pending = new ArrayList<>();
        for (Map.Entry<String, String> e : tables.pending().entrySet()) pending.add(e.getKey() + ": " + e.getValue());
        d.put(ConfigFolderStatus.FILES, files.toArray(String[]::new));
        d.put(ConfigFolderStatus.PENDING, pending.toArray(String[]::new));
        List<String> states = new ArrayList<>();
        for (Map.Entry<String, TableFiles.Status> e : tables.states().entrySet()) states.add(e.getKey() + ": " + e.getValue());
        d.put(ConfigFolderStatus.TABLES, states.toArray(String[]::new));
        List<String> refused = new ArrayList<>();
        for (Map.Entry<String, TableFiles.Status> e : tables.states().entrySet()) {
            if (e.getValue().state() == TableFiles.State.REJECTED) refused.add(e.getKey() + TableFiles.SUFFIX + ": " + e.getValue().reason());
        }
        for (Map.Entry<Path, String> e : unreadable.entrySet()) refused.add(e.getKey().getFileName() + ": " + e.getValue());
        for (Map.Entry<String, String> e : failures.refused().entrySet()) refused.add(e.getKey() + ": " + e.getValue());
        d.put(ConfigFolderStatus.REFUSED, refused.toArray(String[]::new));
        return d;
    }

    private synchronized void publish() {
        try {
            if (status != null) status.setProperties(properties());
        } catch (IllegalStateException gone) {
            // deactivating
        }
    }

    @Deactivate
    void deactivate() {
        executor.shutdownNow();
        registry.removeListener(listener);
        try {
            status.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the bundle is stopping
        }
    }
}
