package org.dmstack.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.dm.DeviceInfo;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableFilesTest {
    @TempDir Path dir;
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final DeviceMapper dm = new DeviceMapper(registry);
    private final TableFiles files = new TableFiles(dm);
    private final Arena arena = Arena.ofShared();

    @AfterEach
    void tearDown() {
        dm.close();
    }

    private Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    private void ram(int n) {
        MemorySegment mem = arena.allocate(1 << 20);
        registry.add(GenDisk.builder("ram" + n, new DevT(1, n), 2048, bio -> {
            if (bio.op() == BioOp.READ) MemorySegment.copy(mem, bio.sector() * 512, bio.data(), 0, bio.size());
            if (bio.op() == BioOp.WRITE) MemorySegment.copy(bio.data(), 0, mem, bio.sector() * 512, bio.size());
            bio.endio(BlkStatus.OK);
        }).build());
    }

    private String state(String name) {
        return String.valueOf(files.states().get(name));
    }

    @Test
    void aBinaryOrUnreadableTableIsRefusedInOneLineAndTheOldTableStays() throws Exception {
        Path f = dir.resolve("bin.table");
        Files.write(f, new byte[] {'0', ' ', (byte) 0xC3, (byte) 0x28, '\n'});
        files.install(f);
        assertEquals("rejected: cannot be read: binary data, not a table (not UTF-8 text) (not created)", state("bin"));
        assertEquals(List.of(), dm.list());

        Path z = write("z.table", "0 100 zero\n");
        files.install(z);
        Files.write(z, new byte[] {'0', ' ', '8', 0, '\n'});
        files.update(z);
        assertEquals("rejected: cannot be read: binary data, not a table (control character 0x00 at character 3) (the old table stays active)", state("z"));
        assertEquals("0 100 zero \n", dm.table("z"));

        Files.delete(z);
        files.update(z);
        assertEquals("rejected: cannot be read: No such file or directory (the old table stays active)", state("z"));
        assertEquals("0 100 zero \n", dm.table("z"));
    }

    @Test
    void aTableFileCreatesTheDeviceAndDeletingItRemovesIt() throws Exception {
        Path f = write("z.table", "# zeros\n0 100 zero\n");
        files.install(f);
        assertEquals("active", state("z"));
        assertEquals("0 100 zero \n", dm.table("z"));
        files.uninstall(f);
        assertEquals(List.of(), dm.list());
        assertEquals(Map.of(), files.states());
    }

    @Test
    void pendingUntilTheDeviceAndTargetTypeAppearInAnyOrder() throws Exception {
        files.install(write("top.table", "0 1024 linear lv0 0\n"));
        files.install(write("lv0.table", "0 2048 linear ram0 0\n"));
        assertEquals("pending: line 1: linear: unknown target type", state("lv0"));
        assertEquals(2, files.pending().size());
        dm.targetTypes().register(new Linear());
        files.retry();
        assertEquals("pending: line 1: linear: ram0: No such device", state("lv0"));
        ram(0);
        files.retry();
        assertEquals("active", state("lv0"));
        assertEquals("active", state("top"));
        assertEquals("0 1024 linear 254:0 0\n", dm.table("top"));
        assertTrue(files.pending().isEmpty());
    }

    @Test
    void editingReloadsLiveAndABadEditKeepsTheOldTable() throws Exception {
        dm.targetTypes().register(new Linear());
        ram(0);
        ram(1);
        Path f = write("lv0.table", "0 2048 linear ram0 0\n");
        files.install(f);
        Files.writeString(f, "0 1024 linear ram1 1024\n");
        files.update(f);
        assertEquals("0 1024 linear 1:1 1024\n", dm.table("lv0"));
        assertFalse(dm.info("lv0").suspended());
        Files.writeString(f, "0 4096 linear ram1 0\n");
        files.update(f);
        assertEquals("rejected: resume ioctl on lv0 failed: Invalid argument (line 1: linear: ram1 too small for target: start=0, len=4096, dev_size=2048) (the old table stays active)", state("lv0"));
        assertEquals("0 1024 linear 1:1 1024\n", dm.table("lv0"));
        assertEquals("", dm.table("lv0", true));
        assertFalse(dm.info("lv0").suspended(), "the old table goes on after the failed resume");
    }

    @Test
    void deletingAUsedDeviceIsRefusedUntilItsUserGoes() throws Exception {
        dm.targetTypes().register(new Linear());
        ram(0);
        Path lower = write("lv0.table", "0 2048 linear ram0 0\n");
        Path upper = write("top.table", "0 2048 linear lv0 0\n");
        files.install(lower);
        files.install(upper);
        files.uninstall(lower);
        assertEquals("removing: remove ioctl on lv0 failed: Device or resource busy (used by top)", state("lv0"));
        assertEquals(List.of("lv0", "top"), dm.list().stream().map(DeviceInfo::name).toList());
        files.uninstall(upper);
        assertEquals(List.of(), dm.list());
        assertEquals(Map.of(), files.states());
    }

    @Test
    void aWrongTableIsRejectedAndCreatesNothing() throws Exception {
        files.install(write("bad.table", "0 100 zero extra\n"));
        assertEquals("rejected: line 1: zero: No arguments required (not created)", state("bad"));
        assertEquals(List.of(), dm.list());
        files.install(write("gap.table", "0 100 zero\n200 100 zero\n"));
        assertTrue(state("gap").startsWith("rejected: line 2: zero: Gap in table"), state("gap"));
    }

    @Test
    void shortConfigNames() {
        assertEquals(new CfgFiles.Target("org.dmstack.brd", null), CfgFiles.target(Path.of("/etc/x/brd.cfg")));
        assertEquals(new CfgFiles.Target("org.dmstack.dm", null), CfgFiles.target(Path.of("dm.cfg")));
        assertEquals(new CfgFiles.Target("org.dmstack.pmem", "data"), CfgFiles.target(Path.of("pmem-data.cfg")));
        assertEquals(new CfgFiles.Target("org.dmstack.nfit", "demo-1"), CfgFiles.target(Path.of("nfit-demo-1.cfg")));
        assertEquals(new CfgFiles.Target("org.dmstack.nbd", null), CfgFiles.target(Path.of("nbd.cfg")), "the NBD export");
        assertEquals(new CfgFiles.Target("org.dmstack.nbd.driver", "remote"), CfgFiles.target(Path.of("nbd-remote.cfg")), "an imported device");
        assertEquals(null, CfgFiles.target(Path.of("org.dmstack.brd.cfg")));
        assertEquals(null, CfgFiles.target(Path.of("pmem.cfg")));
        assertEquals(null, CfgFiles.target(Path.of("brd-x.cfg")));
        assertTrue(TableFiles.handles(Path.of("lv0.table")));
        assertFalse(TableFiles.handles(Path.of(".table")));
    }

    @Test
    void cfgPropertiesAreStrings() throws Exception {
        var d = CfgFiles.read(write("brd.cfg", "# two disks\nrd_nr = 2\nrd_size=4096\nlist = [a:1, b:2]\n"));
        assertArrayEquals(new String[] {"a:1", "b:2"}, (String[]) d.get("list"));
        assertEquals(System.getProperty("java.home") + "/x ${no.such.property}", CfgFiles.value("${java.home}/x ${no.such.property}"));
        assertEquals("2", d.get("rd_nr"));
        assertEquals("4096", d.get("rd_size"));
        assertEquals(dir.resolve("brd.cfg").toAbsolutePath().toString(), d.get(CfgFiles.FILE_PROPERTY));
    }

    /** Enough of dm-linear to stack on a device: {@code <dev> <offset>}. */
    static final class Linear implements TargetType {
        @Override
        public String name() {
            return "linear";
        }

        @Override
        public Target construct(TargetContext ctx) throws TargetException {
            BlockDevice dev = ctx.getDevice(ctx.args().get(0));
            long offset = Long.parseLong(ctx.args().get(1));
            long begin = ctx.begin(), len = ctx.length();
            return new Target() {
                public MapResult map(Bio bio) {
                    bio.remap(dev, bio.op() == BioOp.FLUSH ? 0 : offset + bio.sector() - begin);
                    return MapResult.REMAPPED;
                }

                public String status(StatusType type) {
                    return type == StatusType.TABLE ? dev.devt() + " " + offset : "";
                }

                public void iterateDevices(DeviceVisitor visitor) {
                    visitor.visit(dev, offset, len);
                }
            };
        }
    }
}
