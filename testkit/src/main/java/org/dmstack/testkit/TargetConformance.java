package org.dmstack.testkit;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.units.Units;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.FsDax;
import org.dmstack.dm.DeviceInfo;
import org.dmstack.dm.DmException;
import org.dmstack.dm.MappedDevice;
import org.dmstack.dm.TableLine;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.DynamicTest;

/**
 * The behaviour every device-mapper target must have, as a suite a target's test class runs in
 * one line:
 *
 * <pre>{@code
 * @TestFactory
 * Stream<DynamicTest> conformance() {
 *     return TargetConformance.of(new StripedTargetType(), "0 8192 striped 2 64 ram0 0 ram1 0").tests();
 * }
 * }</pre>
 *
 * The table may name the devices ram0, ram1, ... (1:0, 1:1, ...): in-memory {@link
 * RecordingDevice}s, with a write cache and DAX unless told otherwise. Every check starts from
 * fresh devices. A failure says what the target did wrong, in terms of sectors and devices.
 */
public final class TargetConformance {
    private final TargetType type;
    private final String table;
    private int deviceCount = 4;
    private long deviceSectors = 4096;
    private boolean writeCache = true;
    private boolean dax = true;
    private final List<String> badTables = new ArrayList<>();
    private long seed = 42;

    private TargetConformance(TargetType type, String table) {
        this.type = type;
        this.table = table;
    }

    public static TargetConformance of(TargetType type, String table) {
        return new TargetConformance(type, table);
    }

    /** How many devices (ram0..) and how big (default 4 of 4096 sectors). */
    public TargetConformance devices(int count, long sectors) {
        this.deviceCount = count;
        this.deviceSectors = sectors;
        return this;
    }

    public TargetConformance writeCache(boolean writeCache) {
        this.writeCache = writeCache;
        return this;
    }

    public TargetConformance dax(boolean dax) {
        this.dax = dax;
        return this;
    }

    /** Tables the target must refuse (besides the ones the suite makes by dropping arguments and naming missing devices). */
    public TargetConformance badTables(String... tables) {
        badTables.addAll(List.of(tables));
        return this;
    }

    public TargetConformance seed(long seed) {
        this.seed = seed;
        return this;
    }

    public Stream<DynamicTest> tests() {
        return Stream.of(
                dynamicTest("maps every sector inside the devices it declared", () -> run(this::mapsInsideDeclaredDevices)),
                dynamicTest("multi-sector bios land where one-sector bios do (split at max_io_len)", () -> run(this::splitsCorrectly)),
                dynamicTest("flushes reach every device with a write cache", () -> run(this::flushesReachDevices)),
                dynamicTest("DAX reaches the same bytes as bios", () -> run(this::daxAgreesWithBios)),
                dynamicTest("table and status output round-trip through the parser", () -> run(this::outputRoundTrips)),
                dynamicTest("construction errors leave nothing behind", this::constructionErrorsLeaveNothing),
                dynamicTest("concurrent I/O during suspend and resume loses nothing", () -> run(this::suspendResumeLosesNothing)));
    }

    // ---- the fixture ----

    private final class Fixture implements AutoCloseable {
        final TargetHarness harness = TargetHarness.of(type);
        final Map<String, RecordingDevice> devices = new LinkedHashMap<>();
        final MappedDevice md;
        final BlockDevice disk;
        final int block;
        final long blocks;

        Fixture() {
            for (int i = 0; i < deviceCount; i++) {
                RecordingDevice d = RecordingDevice.builder("ram" + i, 1, i).sectors(deviceSectors).writeCache(writeCache).dax(dax).build();
                devices.put(d.name(), d);
                harness.with(d);
            }
            md = harness.create(table);
            disk = md.disk();
            block = disk.limits().logicalBlockSize() / Units.SECTOR_SIZE;
            blocks = disk.capacity() / block;
        }

        void clear() {
            devices.values().forEach(RecordingDevice::clear);
        }

        /** The areas the table's targets declare through iterate_devices, by device name. */
        Map<String, List<long[]>> declaredAreas() throws TargetException {
            Map<String, List<long[]>> areas = new LinkedHashMap<>();
            for (TableLine l : TableLine.parse(table)) {
                Target t = harness.construct(l.start() + " " + l.length() + " " + l.type() + " " + String.join(" ", l.args()));
                t.iterateDevices((device, start, length) -> areas.computeIfAbsent(device.name(), k -> new ArrayList<>()).add(new long[] {start, length}));
            }
            return areas;
        }

        @Override
        public void close() {
            harness.close();
        }
    }

    private interface Check {
        void run(Fixture f) throws Exception;
    }

    private void run(Check check) throws Exception {
        try (Fixture f = new Fixture()) {
            check.run(f);
        }
    }

    private record Location(String device, long sector) {
        @Override
        public String toString() {
            return device + " sector " + sector;
        }
    }

    private static void ok(BlockDevice device, Bio bio) {
        BlkStatus s = Bios.submit(device, bio);
        if (!s.isOk()) throw new AssertionError(bio + " to " + device.name() + " failed: " + s);
    }

    /** Fills a block with data that says which mapped sector it belongs to and which pass wrote it. */
    private static void fill(MemorySegment buf, long offset, long sector, int blockSectors, long pass) {
        for (int s = 0; s < blockSectors; s++) {
            MemorySegment sec = buf.asSlice(offset + (long) s * Units.SECTOR_SIZE, Units.SECTOR_SIZE);
            sec.fill((byte) (sector * 7 + pass));
            sec.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, sector + s);
            sec.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, pass);
        }
    }

    /** Learns where each block of the mapped device goes by writing it alone and seeing which device write it became. */
    private Map<Long, Location> discoverMapping(Fixture f) {
        Map<Long, Location> map = new LinkedHashMap<>();
        MemorySegment buf = Arena.ofAuto().allocate((long) f.block * Units.SECTOR_SIZE);
        for (long b = 0; b < f.blocks; b++) {
            long sector = b * f.block;
            f.clear();
            fill(buf, 0, sector, f.block, 1);
            ok(f.disk, Bio.write(sector, buf));
            List<Location> writes = new ArrayList<>();
            for (RecordingDevice d : f.devices.values()) {
                for (RecordingDevice.RecordedBio r : d.bios()) {
                    if (r.op() == BioOp.WRITE) writes.add(new Location(d.name(), r.sector()));
                }
            }
            if (writes.size() != 1) {
                throw new AssertionError("a one-block write of sector " + sector + " of the mapped device became " + writes.size()
                        + " device writes " + writes + "; expected exactly one");
            }
            map.put(sector, writes.getFirst());
        }
        return map;
    }

    // ---- the checks ----

    private void mapsInsideDeclaredDevices(Fixture f) throws Exception {
        Map<String, List<long[]>> areas = f.declaredAreas();
        Map<Location, Long> seen = new HashMap<>();
        for (Map.Entry<Long, Location> e : discoverMapping(f).entrySet()) {
            Location at = e.getValue();
            List<long[]> declared = areas.get(at.device());
            if (declared == null) {
                throw new AssertionError("sector " + e.getKey() + " of the mapped device was written to " + at + ", a device the target never declared (iterate_devices)");
            }
            boolean inside = declared.stream().anyMatch(a -> at.sector() >= a[0] && at.sector() + f.block <= a[0] + a[1]);
            if (!inside) {
                StringBuilder list = new StringBuilder();
                for (long[] a : declared) list.append(list.isEmpty() ? "" : ", ").append('[').append(a[0]).append(", ").append(a[0] + a[1]).append(')');
                throw new AssertionError("sector " + e.getKey() + " of the mapped device was written to " + at
                        + ", outside what the target declared for " + at.device() + " (iterate_devices: " + list + ")");
            }
            Long other = seen.put(at, e.getKey());
            if (other != null) throw new AssertionError("sectors " + other + " and " + e.getKey() + " of the mapped device both map to " + at);
        }
    }

    private void splitsCorrectly(Fixture f) {
        Map<Long, Location> map = discoverMapping(f);
        Random rnd = new Random(seed);
        long bytesPerBlock = (long) f.block * Units.SECTOR_SIZE;
        for (long b = 0; b < f.blocks; ) {
            long n = Math.min(f.blocks - b, 1 + rnd.nextInt(300));
            MemorySegment buf = Arena.ofAuto().allocate(n * bytesPerBlock);
            for (long i = 0; i < n; i++) fill(buf, i * bytesPerBlock, (b + i) * f.block, f.block, 2);
            ok(f.disk, Bio.write(b * f.block, buf));
            b += n;
        }
        for (Map.Entry<Long, Location> e : map.entrySet()) {
            Location at = e.getValue();
            MemorySegment sector = f.devices.get(at.device()).memory().asSlice(at.sector() * Units.SECTOR_SIZE, Units.SECTOR_SIZE);
            long holds = sector.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            long pass = sector.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
            if (holds != e.getKey() || pass != 2) {
                throw new AssertionError("after multi-sector writes, " + at + " holds " + (pass == 2 ? "the data of mapped sector " + holds : "stale data")
                        + ", but a one-sector write of sector " + e.getKey() + " goes there: the target maps longer bios differently (is max_io_len right?)");
            }
        }
        for (long b = 0; b < f.blocks; ) {
            long n = Math.min(f.blocks - b, 1 + rnd.nextInt(300));
            MemorySegment back = Arena.ofAuto().allocate(n * bytesPerBlock);
            ok(f.disk, Bio.read(b * f.block, back));
            for (long i = 0; i < n * f.block; i++) {
                long got = back.get(ValueLayout.JAVA_LONG_UNALIGNED, i * Units.SECTOR_SIZE);
                if (got != b * f.block + i) {
                    throw new AssertionError("a " + n * f.block + "-sector read at sector " + b * f.block + " returned the data of sector " + got
                            + " where sector " + (b * f.block + i) + " was expected");
                }
            }
            b += n;
        }
    }

    private void flushesReachDevices(Fixture f) throws Exception {
        Map<String, List<long[]>> areas = f.declaredAreas();
        f.clear();
        ok(f.disk, Bio.flush());
        for (String name : areas.keySet()) {
            RecordingDevice d = f.devices.get(name);
            if (d != null && d.device().writeCache() && d.count(BioOp.FLUSH) == 0) {
                throw new AssertionError("a FLUSH of the mapped device never reached " + name + ", which has a write cache");
            }
        }
        if (writeCache && !f.disk.writeCache()) throw new AssertionError("the mapped device has no write cache although every device under it has one");
    }

    private void daxAgreesWithBios(Fixture f) {
        DaxDevice daxDevice = f.disk.dax();
        if (daxDevice == null) {
            if (dax && supportsDax(f)) throw new AssertionError("every device is DAX-capable and the target says it supports DAX, but the mapped device has no DAX");
            return;
        }
        Map<Long, Location> map = discoverMapping(f);
        long pages = f.disk.capacity() / Units.PAGE_SECTORS;
        for (long p = 0; p < pages; p++) {
            Location at = map.get(p * Units.PAGE_SECTORS - (p * Units.PAGE_SECTORS) % f.block);
            RecordingDevice d = f.devices.get(at.device());
            long expected = d.memory().address() + at.sector() * Units.SECTOR_SIZE;
            long actual = daxDevice.directAccess(p, 1).kaddr().address();
            if (actual != expected) {
                throw new AssertionError("direct_access of page " + p + " reaches " + describe(f, actual) + ", but bios for sector "
                        + p * Units.PAGE_SECTORS + " go to " + at);
            }
        }
        byte[] data = new byte[(int) Math.min(pages * Units.PAGE_SIZE, 4 << 20)];
        new Random(seed).nextBytes(data);
        if (FsDax.write(daxDevice, 0, IovIter.iovec(data)) != data.length) throw new AssertionError("a DAX write of " + data.length + " bytes came up short");
        MemorySegment back = Arena.ofAuto().allocate(data.length);
        ok(f.disk, Bio.read(0, back));
        long mismatch = back.mismatch(MemorySegment.ofArray(data));
        if (mismatch >= 0) throw new AssertionError("bytes written through DAX read back differently through bios, from byte " + mismatch);
    }

    private boolean supportsDax(Fixture f) {
        try {
            for (TableLine l : TableLine.parse(table)) {
                if (!f.harness.construct(l.start() + " " + l.length() + " " + l.type() + " " + String.join(" ", l.args())).supportsDax()) return false;
            }
            return true;
        } catch (TargetException e) {
            return false;
        }
    }

    private static String describe(Fixture f, long address) {
        for (RecordingDevice d : f.devices.values()) {
            long base = d.memory().address();
            if (address >= base && address < base + d.memory().byteSize()) return d.name() + " byte " + (address - base) + " (sector " + (address - base) / 512 + ")";
        }
        return String.format("address 0x%x, on no device", address);
    }

    private void outputRoundTrips(Fixture f) {
        String name = f.md.name();
        String printed = f.harness.dm().table(name);
        String status = f.harness.dm().status(name);
        int lines = TableLine.parse(table).size();
        if (printed.lines().count() != lines || status.lines().count() != lines) {
            throw new AssertionError("a " + lines + "-line table printed " + printed.lines().count() + " table and " + status.lines().count() + " status lines");
        }
        try {
            f.harness.dm().load(name, printed);
        } catch (DmException e) {
            throw new AssertionError("the table as printed does not load back:\n" + printed + "because: " + e.getMessage(), e);
        }
        String again = f.harness.dm().table(name, true);
        if (!again.equals(printed)) throw new AssertionError("the table printed as\n" + printed + "loads back as\n" + again);
    }

    private void constructionErrorsLeaveNothing() {
        List<String> candidates = new ArrayList<>(badTables);
        List<TableLine> lines = TableLine.parse(table);
        List<String> generated = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            TableLine l = lines.get(i);
            for (int k = 0; k < l.args().size(); k++) generated.add(replaceLine(lines, i, l.args().subList(0, k)));
            for (int a = 0; a < l.args().size(); a++) {
                if (l.args().get(a).matches("ram\\d+")) {
                    List<String> args = new ArrayList<>(l.args());
                    args.set(a, "nosuchdevice");
                    generated.add(replaceLine(lines, i, args));
                }
            }
        }
        for (String bad : candidates) refusedCleanly(bad, true);
        for (String bad : generated) refusedCleanly(bad, false);
    }

    private static String replaceLine(List<TableLine> lines, int index, List<String> args) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            TableLine l = lines.get(i);
            sb.append(l.start()).append(' ').append(l.length()).append(' ').append(l.type());
            for (String a : i == index ? args : l.args()) sb.append(' ').append(a);
            sb.append('\n');
        }
        return sb.toString();
    }

    private void refusedCleanly(String bad, boolean mustFail) {
        try (Fixture f = new Fixture()) {
            List<DeviceInfo> before = f.harness.dm().list();
            Map<String, Set<DevT>> holdersBefore = new HashMap<>();
            for (RecordingDevice d : f.devices.values()) holdersBefore.put(d.name(), f.harness.registry().holders(d.device().devt()));
            String error;
            try {
                f.harness.create(bad);
                if (mustFail) throw new AssertionError("the table\n" + bad + "was accepted, but must be refused");
                return;
            } catch (DmException e) {
                error = e.getMessage();
            }
            if (!f.harness.dm().list().equals(before)) {
                throw new AssertionError("after refusing\n" + bad + "(" + error + ") device-mapper lists\n" + f.harness.dm().list() + "\ninstead of\n" + before);
            }
            for (RecordingDevice d : f.devices.values()) {
                var now = f.harness.registry().holders(d.device().devt());
                if (!now.equals(holdersBefore.get(d.name()))) {
                    throw new AssertionError("after refusing\n" + bad + "(" + error + ") " + d.name() + " is held by " + now + " instead of " + holdersBefore.get(d.name()));
                }
            }
        }
    }

    private void suspendResumeLosesNothing(Fixture f) throws Exception {
        int threads = 2;
        long perThread = f.blocks / threads;
        long[][] model = new long[threads][(int) perThread];
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                workers.add(pool.submit(() -> {
                    Random rnd = new Random(seed + thread);
                    MemorySegment buf = Arena.ofAuto().allocate((long) f.block * Units.SECTOR_SIZE);
                    MemorySegment back = Arena.ofAuto().allocate((long) f.block * Units.SECTOR_SIZE);
                    long pass = 10;
                    for (int ops = 0; !stop.get() || ops < 100; ops++) {
                        int i = rnd.nextInt((int) perThread);
                        long sector = (thread * perThread + i) * f.block;
                        if (rnd.nextBoolean()) {
                            fill(buf, 0, sector, f.block, ++pass);
                            ok(f.disk, Bio.write(sector, buf));
                            model[thread][i] = pass;
                        } else {
                            ok(f.disk, Bio.read(sector, back));
                            long got = model[thread][i] == 0 ? 0 : back.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
                            if (got != model[thread][i]) {
                                throw new AssertionError("sector " + sector + " read pass " + got + " but pass " + model[thread][i] + " was acknowledged");
                            }
                        }
                    }
                    return null;
                }));
            }
            String name = f.md.name();
            String printed = f.harness.dm().table(name);
            for (int round = 0; round < 20; round++) {
                f.harness.dm().load(name, printed);
                f.harness.dm().suspend(name);
                f.harness.dm().resume(name);
            }
            stop.set(true);
            for (Future<?> w : workers) {
                try {
                    w.get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        MemorySegment back = Arena.ofAuto().allocate((long) f.block * Units.SECTOR_SIZE);
        for (int t = 0; t < threads; t++) {
            for (int i = 0; i < perThread; i++) {
                if (model[t][i] == 0) continue;
                long sector = (t * perThread + i) * f.block;
                ok(f.disk, Bio.read(sector, back));
                long pass = back.get(ValueLayout.JAVA_LONG_UNALIGNED, 8);
                if (pass != model[t][i]) throw new AssertionError("sector " + sector + " holds pass " + pass + " after the swaps, but pass " + model[t][i] + " was acknowledged");
            }
        }
    }
}
