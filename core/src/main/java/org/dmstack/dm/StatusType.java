package org.dmstack.dm;

/** Which status a target reports: its run-time state (dmsetup status) or its table line (dmsetup table). */
public enum StatusType {
    INFO,
    TABLE
}
