package org.dmstack.shell;

import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;

/** Finding devices the way a Linux user names them. */
public final class Devices {
    private Devices() {}

    /**
     * A device by "ram0", "/dev/ram0", "dm-0", "major:minor", or a mapped device's name
     * ("lv0", "/dev/mapper/lv0"); null when there is none.
     */
    public static BlockDevice find(BlockDeviceRegistry registry, String path) {
        BlockDevice d = registry.lookup(path);
        if (d != null) return d;
        String dmName = path.startsWith("/dev/mapper/") ? path.substring(12) : path.startsWith("/dev/") ? path.substring(5) : path;
        for (BlockDevice each : registry.devices()) {
            if (each.attributes().has("dm/name") && each.attributes().read("dm/name").equals(dmName)) return each;
        }
        return null;
    }
}
