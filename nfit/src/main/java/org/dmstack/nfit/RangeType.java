package org.dmstack.nfit;

import java.util.UUID;

/**
 * What an SPA range holds, from its Address Range Type GUID (ACPI 6.x, table 5-137; Linux's
 * enum nfit_uuids). Persistent- and volatile-memory ranges become regions, and so do the virtual
 * disks and CDs (Linux's acpi_nfit_register_region makes them pmem regions, without address-range
 * scrub); control-region and block-data-window ranges are decoded and shown, like Linux, which
 * makes no region of them.
 */
public enum RangeType {
    VOLATILE_MEMORY("7305944F-FDDA-44E3-B16C-3F22D252E5D0", "Volatile Memory"),
    PERSISTENT_MEMORY("66F0D379-B4F3-4074-AC43-0D3318B78CDB", "Persistent Memory"),
    CONTROL_REGION("92F701F6-13B4-405D-910B-299367E8234C", "NVDIMM Control Region"),
    BLOCK_DATA_WINDOW("91AF0530-5D86-470E-A6B0-0A2DB9408249", "NVDIMM Block Data Window"),
    VOLATILE_VIRTUAL_DISK("77AB535A-45FC-624B-5560-F7B281D1F96E", "Volatile Virtual Disk"),
    VOLATILE_VIRTUAL_CD("3D5ABD30-4175-87CE-6D64-D2ADE523C4BB", "Volatile Virtual CD"),
    PERSISTENT_VIRTUAL_DISK("5CEA02C9-4D07-69D3-269F-4496FBE096F9", "Persistent Virtual Disk"),
    PERSISTENT_VIRTUAL_CD("08018188-42CD-BB48-100F-5387D53DED3D", "Persistent Virtual CD"),
    /** A GUID this code does not know. */
    UNKNOWN("00000000-0000-0000-0000-000000000000", "Unknown");

    private final UUID guid;
    private final String description;

    RangeType(String guid, String description) {
        this.guid = UUID.fromString(guid);
        this.description = description;
    }

    public UUID guid() {
        return guid;
    }

    public String description() {
        return description;
    }

    /** Whether ranges of this type become regions (persistent or volatile memory, virtual disks and CDs). */
    public boolean isRegion() {
        return this == PERSISTENT_MEMORY || this == VOLATILE_MEMORY || isVirtual();
    }

    /** A virtual disk or CD (Linux's nfit_spa_is_virtual). */
    public boolean isVirtual() {
        return this == VOLATILE_VIRTUAL_DISK || this == VOLATILE_VIRTUAL_CD || this == PERSISTENT_VIRTUAL_DISK
                || this == PERSISTENT_VIRTUAL_CD;
    }

    /** Whether the bytes must outlive the process: persistent memory and persistent virtual disks and CDs. */
    public boolean isPersistent() {
        return this == PERSISTENT_MEMORY || this == PERSISTENT_VIRTUAL_DISK || this == PERSISTENT_VIRTUAL_CD;
    }

    public static RangeType of(UUID guid) {
        for (RangeType t : values()) {
            if (t != UNKNOWN && t.guid.equals(guid)) return t;
        }
        return UNKNOWN;
    }
}
