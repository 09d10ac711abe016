package org.dmstack.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Short names for dmstack's configuration files: {@code brd.cfg} configures PID
 * {@code org.dmstack.brd}; {@code pmem-data.cfg} is the factory configuration "data" of
 * {@code org.dmstack.pmem}. The short names are brd, dm, nbd (single configurations) and pmem,
 * nfit, nbd (one file per instance, {@code NAME-INSTANCE.cfg}): {@code nbd.cfg} is the NBD export,
 * {@code nbd-remote.cfg} an imported NBD device of factory PID {@code org.dmstack.nbd.driver}. Any
 * other {@code .cfg} file is left to FileInstall, which maps a file name to a PID itself
 * ({@code org.dmstack.brd.cfg}).
 */
public final class CfgFiles {
    public static final List<String> SINGLE = List.of("brd", "dm", "nbd");
    public static final List<String> FACTORY = List.of("pmem", "nfit", "nbd");
    /** Factory PIDs that are not the prefix and the short name. */
    private static final Map<String, String> FACTORY_PIDS = Map.of("nbd", "org.dmstack.nbd.driver");
    private static final String PID_PREFIX = "org.dmstack.";
    /** The property that records which file a configuration came from. */
    public static final String FILE_PROPERTY = "dmstack.config.file";

    /**
     * What a short-named file configures.
     *
     * @param pid the PID, or for a factory configuration the factory PID
     * @param instance the factory configuration's name, or null for a single configuration
     */
    public record Target(String pid, String instance) {}

    private CfgFiles() {}

    /** The configuration a file stands for, or null when it is not a short-named dmstack file. */
    public static Target target(Path file) {
        String n = file.getFileName().toString();
        if (!n.endsWith(".cfg")) return null;
        String base = n.substring(0, n.length() - 4);
        if (SINGLE.contains(base)) return new Target(PID_PREFIX + base, null);
        int dash = base.indexOf('-');
        if (dash > 0 && dash < base.length() - 1 && FACTORY.contains(base.substring(0, dash))) {
            String kind = base.substring(0, dash);
            return new Target(FACTORY_PIDS.getOrDefault(kind, PID_PREFIX + kind), base.substring(dash + 1));
        }
        return null;
    }

    /**
     * A value; {@code [a, b, c]} is a list (String[]), anything else a String. {@code ${name}} is
     * replaced by the system property {@code name} (as FileInstall does), e.g. {@code ${dmstack.home}}.
     */
    static Object value(String raw) {
        String text = substitute(raw);
        if (text.startsWith("[") && text.endsWith("]")) {
            String inner = text.substring(1, text.length() - 1).strip();
            if (inner.isEmpty()) return new String[0];
            return Arrays.stream(inner.split(",")).map(String::strip).toArray(String[]::new);
        }
        return text;
    }

    private static String substitute(String text) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            int start = text.indexOf("${", i);
            int end = start < 0 ? -1 : text.indexOf('}', start);
            if (start < 0 || end < 0) {
                sb.append(text, i, text.length());
                break;
            }
            String value = System.getProperty(text.substring(start + 2, end));
            sb.append(text, i, start).append(value != null ? value : text.substring(start, end + 1));
            i = end + 1;
        }
        return sb.toString();
    }

    /**
     * The file's properties ({@code key = value} lines, {@code #} comments), as configuration;
     * a value in brackets, {@code [a, b]}, is a list.
     */
    public static Dictionary<String, Object> read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Dictionary<String, Object> d = new Hashtable<>();
        for (String key : p.stringPropertyNames()) d.put(key, value(p.getProperty(key).strip()));
        d.put(FILE_PROPERTY, file.toAbsolutePath().toString());
        return d;
    }
}
