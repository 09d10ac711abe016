package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.nvdimm.Region;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every bad configuration: a clear error, no device, no file created or changed. */
class PmemBadInputTest {
    @TempDir
    Path dir;

    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private final Pmem pmem = new Pmem(registry);

    @AfterEach
    void close() {
        pmem.close();
    }

    private void refused(Class<? extends Throwable> type, String message, Executable create) {
        Throwable e = assertThrows(type, create);
        assertEquals(message, e.getMessage());
    }

    private void nothingMade() {
        assertEquals(List.of(), pmem.devices());
        assertEquals(List.of(), registry.devices().stream().filter(d -> d.name().startsWith("pmem")).toList());
    }

    @Test
    void aMissingFileWithoutCreate() {
        Path file = dir.resolve("missing.img");
        refused(IllegalArgumentException.class, "pmem: " + file + ": No such file or directory (set create=true to create it)",
                () -> pmem.create(PmemConfig.file(file, 1 << 20, false)));
        assertFalse(Files.exists(file));
        nothingMade();
    }

    @Test
    void aMissingDirectory() {
        Path file = dir.resolve("nodir/x.img");
        refused(IllegalArgumentException.class, "pmem: " + file + ": the directory " + file.getParent() + " does not exist",
                () -> pmem.create(PmemConfig.file(file, 1 << 20, true)));
        nothingMade();
    }

    @Test
    void anUnreadableFile() throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root can read any file");
        Path file = Files.createFile(dir.resolve("secret.img"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("---------")));
        refused(IllegalArgumentException.class, "pmem: " + file + ": Permission denied (the file must be readable and writable)",
                () -> pmem.create(PmemConfig.file(file, 4096, true)));
        assertEquals(0, Files.size(file));
        nothingMade();
    }

    @Test
    void sizesThatAreNotPositivePageMultiples() {
        Path file = dir.resolve("x.img");
        refused(IllegalArgumentException.class, "pmem: size 5000 is not a multiple of the page size (4096)",
                () -> PmemConfig.file(file, 5000, true));
        refused(IllegalArgumentException.class, "pmem: size must be positive, not 0", () -> PmemConfig.file(file, 0, true));
        refused(IllegalArgumentException.class, "pmem: size must be positive, not -4096", () -> PmemConfig.file(file, -4096, true));
        refused(IllegalArgumentException.class, "pmem: size must be positive, not '-1G'",
                () -> PmemConfig.from(Map.of("path", file.toString(), "size", "-1G")));
        refused(IllegalArgumentException.class, "pmem: size: Invalid size '1X': expected a number with an optional K, M, G or T suffix",
                () -> PmemConfig.from(Map.of("path", file.toString(), "size", "1X")));
        refused(IllegalArgumentException.class, "pmem: size is required (for example size=4G)", () -> PmemConfig.from(Map.of("path", file.toString())));
        refused(IllegalArgumentException.class, "pmem: create must be true or false, not 'maybe'",
                () -> PmemConfig.from(Map.of("path", file.toString(), "size", "4K", "create", "maybe")));
        refused(IllegalArgumentException.class, "pmem: a path is required (only a volatile region can use anonymous memory)",
                () -> PmemConfig.from(Map.of("size", "4K")));
        refused(IllegalArgumentException.class, "pmem: region5: size 5000 is not a positive multiple of the page size",
                () -> pmem.addRegion(Io.persistent(5, file, 5000)));
        assertFalse(Files.exists(file));
        nothingMade();
    }

    @Test
    void aDirectory() {
        refused(IllegalArgumentException.class, "pmem: " + dir + ": Is a directory", () -> pmem.create(PmemConfig.file(dir, 4096, true)));
        nothingMade();
    }

    @Test
    void aFileSmallerThanTheRegionWithoutCreate() throws Exception {
        Path file = dir.resolve("small.img");
        byte[] contents = Io.pattern(8192, 4);
        Files.write(file, contents);
        refused(IllegalArgumentException.class, "pmem: " + file + " is 8192 bytes, smaller than the region size 1048576 (1M); set create=true to grow it",
                () -> pmem.create(PmemConfig.file(file, 1 << 20, false)));
        refused(IllegalArgumentException.class, "pmem: " + file + " is 8192 bytes, smaller than the region size 1048576 (1M); set create=true to grow it",
                () -> pmem.addRegion(Io.region(1, Region.Type.PERSISTENT, 1 << 20, Region.Backing.file(file, false),
                        Region.PersistenceDomain.NONE, List.of())));
        assertArrayEquals(contents, Files.readAllBytes(file), "the file is untouched");
        nothingMade();
    }

    @Test
    void twoDevicesOnTheSameFile() throws Exception {
        Path file = dir.resolve("shared.img");
        PmemDevice first = pmem.create(PmemConfig.file(file, 1 << 20, true));
        Io.write(first.device(), 0, Io.pattern(4096, 8));
        refused(IllegalStateException.class, "pmem: " + file + " is already used by pmem0",
                () -> pmem.create(PmemConfig.file(file, 2 << 20, true)));
        Path link = Files.createLink(dir.resolve("hardlink.img"), file);
        refused(IllegalStateException.class, "pmem: " + link + " is already used by pmem0",
                () -> pmem.create(PmemConfig.file(link, 1 << 20, false)));
        refused(IllegalStateException.class, "pmem: " + file + " is already used by pmem0",
                () -> pmem.addRegion(Io.persistent(4, dir.resolve(".").resolve("shared.img"), 1 << 20)));
        assertEquals(1L << 20, Files.size(file), "not grown by the refused device");
        assertEquals(List.of(first), pmem.devices());
        assertArrayEquals(Io.pattern(4096, 8), Io.read(first.device(), 0, 4096));
        // Once the first is gone, the file can be used again.
        pmem.remove("pmem0");
        assertEquals(BlkStatus.Code.IOERR, Io.tryRead(first.device(), 0, 512).code(), "a removed device fails I/O");
        PmemDevice again = pmem.create(PmemConfig.file(link, 1 << 20, false));
        assertEquals("259:0", again.devt().toString(), "the same name gets the same number");
        assertArrayEquals(Io.pattern(4096, 8), Io.read(again.device(), 0, 4096));
    }

    @Test
    void aTakenName() {
        registry.add(GenDisk.builder("pmem0", new DevT(259, 7), 8, bio -> bio.endio(BlkStatus.OK)).build());
        Path file = dir.resolve("n.img");
        refused(IllegalStateException.class, "pmem: cannot create pmem0: pmem0 259:7 already exists",
                () -> pmem.create(PmemConfig.file(file, 4096, true).withName("pmem0")));
        assertFalse(Files.exists(file));
        PmemDevice auto = pmem.create(PmemConfig.file(file, 4096, true));
        assertEquals("pmem1", auto.name(), "without a name, the lowest free one");
    }
}
