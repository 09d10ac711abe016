package org.dmstack.testkit;

import java.util.ArrayList;
import java.util.List;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DmException;
import org.dmstack.dm.MappedDevice;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.dmstack.dm.TableLine;

/**
 * A target type with devices under it, without OSGi: construct a target straight from a table
 * line (to unit-test its constructor and map), or create a whole mapped device through the real
 * device-mapper core.
 *
 * <pre>{@code
 * try (TargetHarness h = TargetHarness.of(new LinearTargetType()).with(ram0.device())) {
 *     Target t = h.construct("0 1024 linear ram0 8");
 *     assertEquals("Device lookup failed: ram9: No such device", h.constructError("0 8 linear ram9 0"));
 *     MappedDevice md = h.create("0 1024 linear ram0 8");
 * }
 * }</pre>
 */
public final class TargetHarness implements AutoCloseable {
    private final TargetType type;
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry);
    private final List<Target> constructed = new ArrayList<>();
    private int created;

    private TargetHarness(TargetType type) {
        this.type = type;
        dm.targetTypes().register(type);
    }

    public static TargetHarness of(TargetType type) {
        return new TargetHarness(type);
    }

    /** Adds devices the table can name (RecordingDevice.device(), MockDevices.device(...), any BlockDevice). */
    public TargetHarness with(BlockDevice... devices) {
        for (BlockDevice d : devices) registry.add(d);
        return this;
    }

    public TargetHarness with(RecordingDevice... devices) {
        for (RecordingDevice d : devices) registry.add(d.device());
        return this;
    }

    public DeviceMapper dm() {
        return dm;
    }

    public BlockDeviceRegistry registry() {
        return registry;
    }

    /**
     * Calls the type's constructor for one table line ({@code <start> <length> <type> <args...>})
     * directly, with devices from this harness. @throws TargetException as the constructor does
     */
    public Target construct(String line) throws TargetException {
        List<TableLine> lines = TableLine.parse(line);
        if (lines.size() != 1) throw new IllegalArgumentException("construct takes exactly one table line, got " + lines.size());
        TableLine l = lines.getFirst();
        if (!l.type().equals(type.name())) throw new IllegalArgumentException("the line is for '" + l.type() + "', the harness for '" + type.name() + "'");
        Target t = type.construct(TargetContext.of("test", l, path -> {
            BlockDevice d = registry.lookup(path);
            if (d == null) throw new TargetException(path + ": No such device");
            return d;
        }));
        constructed.add(t);
        return t;
    }

    /** The constructor's error message for a line it must refuse. @throws AssertionError when it accepts it */
    public String constructError(String line) {
        try {
            construct(line);
        } catch (TargetException e) {
            return e.getMessage();
        }
        throw new AssertionError("the " + type.name() + " constructor accepted '" + line + "'");
    }

    /** Creates a mapped device "test0", "test1", ... with this table through the real dm core. */
    public MappedDevice create(String table) {
        return dm.create("test" + created++, table);
    }

    /** The DmException message of a table the core must refuse. @throws AssertionError when it accepts it */
    public String createError(String table) {
        try {
            create(table);
        } catch (DmException e) {
            return e.getMessage();
        }
        throw new AssertionError("device-mapper accepted the table '" + table + "'");
    }

    @Override
    public void close() {
        for (Target t : constructed) t.destroy();
        dm.close();
    }
}
