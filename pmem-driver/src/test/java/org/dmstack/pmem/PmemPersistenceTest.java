package org.dmstack.pmem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.units.Units;
import org.dmstack.dax.FsDax;
import org.dmstack.iov.IovIter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What was written and flushed is in the file: after close, to plain reads and to a new process. */
class PmemPersistenceTest {
    @TempDir
    Path dir;

    @Test
    void flushedDataIsInTheFileAfterClose() throws Exception {
        Path file = dir.resolve("pmem.img");
        long size = 64L << 20;
        byte[] blockData = Io.pattern(8192, 1);
        byte[] daxData = Io.pattern(5000, 2);
        long blockSector = 2048;
        long daxPos = 40L << 20;
        try (Pmem pmem = new Pmem(new BlockDeviceRegistry())) {
            PmemDevice pmem0 = pmem.create(PmemConfig.file(file, size, true));
            BlockDevice dev = pmem0.device();
            assertEquals("write back", dev.attributes().read("queue/write_cache"));
            assertEquals("1", dev.attributes().read("dax/write_cache"));
            Io.write(dev, blockSector, blockData);
            assertEquals(BlkStatus.OK, Io.submit(dev, Bio.flush()));
            assertEquals(daxData.length, FsDax.write(dev.dax(), daxPos, IovIter.iovec(daxData))); // durable on return
        }
        assertArrayEquals(blockData, readFile(file, blockSector << Units.SECTOR_SHIFT, blockData.length));
        assertArrayEquals(daxData, readFile(file, daxPos, daxData.length));

        // A new process maps the file again and finds the data through its own pmem device.
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                ReadBack.class.getName(), file.toString(), Long.toString(size), Long.toString(blockSector), Integer.toString(blockData.length))
                .redirectErrorStream(true).start();
        List<String> out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("[")).toList();
        assertEquals(0, p.waitFor(), out.toString());
        assertEquals("OK", out.get(0), out.toString());
        assertEquals(HexFormat.of().formatHex(blockData), out.get(1));
    }

    @Test
    void anExistingFileKeepsItsContentsAndALargerFileIsFine() throws Exception {
        Path file = dir.resolve("big.img");
        byte[] data = Io.pattern(4096, 5);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), 4096);
            ch.truncate(1 << 20);
            ch.write(ByteBuffer.wrap(new byte[1]), (1 << 20) - 1);
        }
        try (Pmem pmem = new Pmem(new BlockDeviceRegistry())) {
            PmemDevice dev = pmem.create(PmemConfig.file(file, 512 << 10, false)); // the first half of the file
            assertEquals(512L << 10, dev.sizeBytes());
            assertArrayEquals(data, Io.read(dev.device(), 8, 4096));
        }
        assertEquals(1L << 20, Files.size(file));
    }

    private static byte[] readFile(Path file, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(file)) {
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) break;
            }
        }
        return buf.array();
    }

}
