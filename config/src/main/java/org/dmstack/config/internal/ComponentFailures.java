package org.dmstack.config.internal;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmstack.config.CfgFiles;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Components that refused to start, as Declarative Services records them: a driver or export that
 * throws from its activate method refuses its configuration. Each new refusal is logged once, in
 * one line that names the config file when a file gave the configuration; the stack trace goes to
 * the log at DEBUG only. (SCR's own log, which prints the trace on the console, is turned off by
 * the launcher: this is where such failures are reported instead.)
 */
final class ComponentFailures {
    private static final Logger LOG = LoggerFactory.getLogger(ComponentFailures.class);

    /** A qualified exception class name and its colon, as a stack trace's lines start. */
    private static final Pattern EXCEPTION_NAME = Pattern.compile("^(?:[a-z_$][\\w$]*\\.)+[A-Z][\\w$]*:\\s*");

    /** The configuration annotation's method in a trace: {@code at jdk.proxy5/jdk.proxy5.$Proxy6.port(Unknown Source)}. */
    private static final Pattern PROXY_METHOD = Pattern.compile("\\$Proxy\\d+\\.(\\w+)\\(");

    private final ServiceComponentRuntime scr;
    private final Set<String> reported = new HashSet<>();
    private Map<String, String> refused = Map.of();

    ComponentFailures(ServiceComponentRuntime scr) {
        this.scr = scr;
    }

    /** Looks again; returns true when the set of refused files changed. */
    synchronized boolean scan() {
        Map<String, String> now = new TreeMap<>();
        Set<String> failing = new HashSet<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state != ComponentConfigurationDTO.FAILED_ACTIVATION) continue;
                String reason = reason(c.failure);
                String file = c.properties.get(CfgFiles.FILE_PROPERTY) instanceof String f ? Path.of(f).getFileName().toString() : null;
                String key = d.name + "#" + c.id + "#" + c.failure;
                failing.add(key);
                if (file != null) now.put(file, reason);
                if (reported.add(key)) {
                    if (file != null) LOG.error("{}: configuration refused: {}", file, reason);
                    else LOG.error("{} did not start: {}", d.name, reason);
                    LOG.debug("{} failed to activate:\n{}", d.name, c.failure);
                }
            }
        }
        reported.retainAll(failing);
        boolean changed = !now.equals(refused);
        refused = Map.copyOf(now);
        return changed;
    }

    /** The config files whose configuration a component refused, with why. */
    synchronized Map<String, String> refused() {
        return new TreeMap<>(refused);
    }

    /**
     * What a user should read of an activation failure: the message of its innermost cause, without
     * exception class names ({@code ComponentException: NumberFormatException: For input string: "x"}
     * reads {@code For input string: "x"}).
     */
    static String reason(String failure) {
        if (failure == null || failure.isBlank()) return "the component failed to start";
        String line = null;
        for (String l : failure.split("\n")) {
            String s = l.strip();
            if (line == null) line = s;
            else if (s.startsWith("Caused by: ")) line = s.substring("Caused by: ".length());
        }
        String m = line;
        for (Matcher x; (x = EXCEPTION_NAME.matcher(m)).find() && x.end() < m.length();) m = m.substring(x.end());
        // A value DS could not convert for a configuration annotation: name the property.
        Matcher p = PROXY_METHOD.matcher(failure);
        if (m.startsWith("For input string: ") && p.find()) {
            String property = p.group(1).replace("__", "\0").replace('_', '.').replace("\0", "_");
            return property + ": not a number: " + m.substring("For input string: ".length());
        }
        return m;
    }
}
