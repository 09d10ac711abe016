package org.dmstack.config;

import java.util.Map;

/**
 * What the config folder has applied, published as a service whose properties the launcher
 * reads without sharing classes: {@value #FILES} (the files handled), {@value #PENDING} (the
 * tables still waiting, as "NAME: reason") and {@value #REFUSED} (the files refused, as
 * "FILE: reason": unreadable, a table the kernel would reject, a configuration its component
 * refused).
 */
public final class ConfigFolderStatus {
    public static final String FILES = "dmstack.config.files";
    public static final String PENDING = "dmstack.config.pending";
    public static final String TABLES = "dmstack.config.tables";
    public static final String REFUSED = "dmstack.config.refused";

    private final TableFiles tables;

    public ConfigFolderStatus(TableFiles tables) {
        this.tables = tables;
    }

    /** Each table file's device and its state. */
    public Map<String, TableFiles.Status> tables() {
        return tables.states();
    }
}
