package org.dmstack.pmem;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HexFormat;
import org.dmstack.block.Bio;
import org.dmstack.block.BlockDeviceRegistry;

/**
 * Run in a new JVM by {@link PmemPersistenceTest}: maps the file again as a pmem device and
 * prints, in hex, {@code bytes} bytes read through the block path at {@code sector}.
 */
public final class ReadBack {
    public static void main(String[] args) {
        Path file = Path.of(args[0]);
        long size = Long.parseLong(args[1]);
        long sector = Long.parseLong(args[2]);
        int bytes = Integer.parseInt(args[3]);
        try (Pmem pmem = new Pmem(new BlockDeviceRegistry())) {
            PmemDevice dev = pmem.create(PmemConfig.file(file, size, false));
            MemorySegment buf = MemorySegment.ofArray(new byte[bytes]);
            Bio bio = Bio.read(sector, buf);
            dev.device().submit(bio);
            System.out.println(bio.await());
            System.out.println(HexFormat.of().formatHex(buf.toArray(ValueLayout.JAVA_BYTE)));
        }
    }
}
