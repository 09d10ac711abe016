package org.dmstack.dm;

/**
 * A registered target type and its version, as Linux's DM_LIST_VERSIONS ioctl returns them in
 * {@code struct dm_target_versions}; {@code dmsetup targets} prints them.
 */
public record TargetVersion(String name, int major, int minor, int patch) {}
