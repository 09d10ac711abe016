package org.dmstack.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.brd.Brd;
import org.dmstack.brd.BrdConfig;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.linear.LinearTargetType;
import org.dmstack.dm.stripe.StripedTargetType;
import org.dmstack.memory.PagePool;
import org.dmstack.pmem.Pmem;
import org.dmstack.pmem.PmemConfig;
import org.dmstack.pmem.PmemDevice;

/**
 * The device stacks the benchmarks and probes measure, built the way an embedded user builds them
 * (plain Java, no OSGi): a registry, a driver, device-mapper with the linear and striped target
 * types, and a table. Each stack owns everything it made and {@link #close()} removes it all,
 * backing files included.
 */
final class Stacks {
    private Stacks() {}

    /** Chunk of the striped tables: 64 KiB, LVM's default stripe size. */
    static final long STRIPE_CHUNK_SECTORS = 128;

    /** What sits on top of the driver's devices. */
    enum Layer {
        /** No device in the way: one copy of the whole operation on the driver's memory ({@link RawCopy}; DAX only). */
        RAW("raw copy"),
        /** No device in the way: the same bytes copied a page at a time (DAX only). */
        RAW_PAGES("raw copy by pages"),
        /** No device in the way: the copy the fast path makes at the bottom, IovIter's, straight to the memory (DAX only). */
        RAW_ITER("raw iterator copy"),
        /** The driver's device itself. */
        DIRECT("direct"),
        LINEAR("dm-linear"),
        STRIPE2("dm-stripe x2"),
        STRIPE4("dm-stripe x4");

        final String label;

        Layer(String label) {
            this.label = label;
        }

        /** A raw copy ({@link RawCopy}), not a device stack. */
        boolean raw() {
            return this == RAW || this == RAW_PAGES || this == RAW_ITER;
        }

        /** How many devices the driver makes for this layer. */
        int devices() {
            return switch (this) {
                case STRIPE2 -> 2;
                case STRIPE4 -> 4;
                default -> 1;
            };
        }
    }

    /** A dmsetup table that puts {@code layer} over {@code devices} (each {@code deviceSectors} long). */
    static String table(Layer layer, List<String> devices, long deviceSectors) {
        return switch (layer) {
            case LINEAR -> "0 " + deviceSectors + " linear " + devices.getFirst() + " 0";
            case STRIPE2, STRIPE4 -> {
                StringBuilder sb = new StringBuilder().append("0 ").append(deviceSectors * devices.size())
                        .append(" striped ").append(devices.size()).append(' ').append(STRIPE_CHUNK_SECTORS);
                for (String d : devices) sb.append(' ').append(d).append(" 0");
                yield sb.toString();
            }
            default -> throw new IllegalArgumentException(layer + " has no table");
        };
    }

    static DeviceMapper deviceMapper(BlockDeviceRegistry registry) {
        DeviceMapper dm = new DeviceMapper(registry);
        dm.targetTypes().register(new LinearTargetType());
        dm.targetTypes().register(new StripedTargetType());
        return dm;
    }

    /** Where pmem backing files go: a tmpfs (/dev/shm) when there is one, like emulated pmem in RAM. */
    static Path pmemDir() {
        String configured = System.getProperty("dmstack.bench.pmemDir");
        if (configured != null) return Path.of(configured);
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) return shm;
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /**
     * A DAX stack: {@code layer} over pmem devices backed by files (mapped memory, so the DAX
     * write cache really forces), sized so the top device is {@code totalBytes} whatever the layer.
     */
    static final class Dax implements AutoCloseable {
        final Layer layer;
        final BlockDeviceRegistry registry = new BlockDeviceRegistry();
        final Pmem pmem = new Pmem(registry);
        final DeviceMapper dm;
        final List<Path> files = new ArrayList<>();
        /** The device the fs-dax helpers use; for the raw copies, the pmem device whose memory they copy. */
        final DaxDevice dax;
        final long size;
        private RawCopy raw;

        Dax(Layer layer, long totalBytes, boolean writeCache) {
            this.layer = layer;
            this.size = totalBytes;
            int n = layer.devices();
            long each = totalBytes / n;
            List<String> names = new ArrayList<>();
            DeviceMapper mapper = null;
            try {
                for (int i = 0; i < n; i++) {
                    Path file = Files.createTempFile(pmemDir(), "dmstack-bench-pmem" + i + "-", ".img");
                    files.add(file);
                    PmemDevice dev = pmem.create(PmemConfig.file(file, each, true).withName("pmem" + i));
                    dev.device().dax().setWriteCache(writeCache);
                    names.add(dev.name());
                }
                BlockDevice first = registry.lookup("pmem0");
                // Touch every page once, so no benchmark pays for the first fault of a page.
                for (String name : names) {
                    MemorySegment m = registry.lookup(name).dax().directAccess(0, each >> Units.PAGE_SHIFT).kaddr();
                    m.fill((byte) 0x5a);
                }
                switch (layer) {
                    case RAW, RAW_PAGES, RAW_ITER, DIRECT -> dax = first.dax();
                    default -> {
                        mapper = deviceMapper(registry);
                        dax = mapper.create("bench", table(layer, names, each >> Units.SECTOR_SHIFT)).disk().dax();
                        if (dax == null) throw new IllegalStateException(layer + " over pmem is not DAX-capable");
                    }
                }
            } catch (IOException e) {
                close();
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            this.dm = mapper;
        }

        /** A raw layer's copy of {@code size}-byte operations (the first call for a size maps them). */
        RawCopy raw(int size) {
            RawCopy r = raw;
            if (r == null || r.size != size) raw = r = new RawCopy(RawCopy.Kind.valueOf(layer.name()), dax, this.size, size);
            return r;
        }

        @Override
        public void close() {
            if (dm != null) {
                dm.remove("bench");
                dm.close();
            }
            pmem.close();
            for (Path f : files) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // A temp file left behind is not worth failing a benchmark for.
                }
            }
        }
    }

    /** A bio stack: {@code layer} (DIRECT, LINEAR or STRIPE2) over brd RAM disks, every page written once. */
    static final class BioStack implements AutoCloseable {
        final BlockDeviceRegistry registry = new BlockDeviceRegistry();
        final PagePool pool = new PagePool();
        final Brd brd;
        final DeviceMapper dm;
        final BlockDevice device;

        BioStack(Layer layer, long totalBytes) {
            int n = layer.devices();
            long each = totalBytes / n;
            brd = new Brd(registry, new BrdConfig(n, each >> 10), pool);
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n; i++) names.add("ram" + i);
            // Every page exists: reads copy real pages rather than zero-filling holes.
            byte[] fill = new byte[1 << 20];
            Arrays.fill(fill, (byte) 0x5a);
            MemorySegment src = MemorySegment.ofArray(fill);
            for (String name : names) {
                BlockDevice d = registry.lookup(name);
                for (long off = 0; off < each; off += fill.length) {
                    long len = Math.min(fill.length, each - off);
                    check(submit(d, Bio.write(off >> Units.SECTOR_SHIFT, src.asSlice(0, len))));
                }
            }
            if (layer == Layer.DIRECT) {
                dm = null;
                device = registry.lookup("ram0");
            } else {
                dm = deviceMapper(registry);
                device = dm.create("bench", table(layer, names, each >> Units.SECTOR_SHIFT)).disk();
            }
        }

        @Override
        public void close() {
            if (dm != null) {
                dm.remove("bench");
                dm.close();
            }
            brd.destroy();
        }
    }

    static BlkStatus submit(BlockDevice device, Bio bio) {
        device.submit(bio);
        return bio.await();
    }

    static void check(BlkStatus status) {
        if (!status.isOk()) throw new IllegalStateException("I/O failed: " + status);
    }

    /** Bytes as people read them: 4 KiB, 64 KiB, 1 MiB, 5 GiB. */
    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        double v = bytes;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%d %s", (long) v, units[u]) : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
