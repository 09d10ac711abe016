package org.dmstack.shell;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.block.DevT;
import org.dmstack.block.GenDisk;
import org.dmstack.block.QueueLimits;
import org.dmstack.dm.DeviceMapper;
import org.dmstack.dm.linear.LinearTargetType;

/** A small stack for command tests: RAM-backed disks, device-mapper and a minimal linear target. */
final class Stack implements AutoCloseable {
    final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    final DeviceMapper dm = new DeviceMapper(registry);
    private final Arena arena = Arena.ofShared();

    Stack() {
        dm.targetTypes().register(new LinearTargetType());
    }

    /** A RAM disk "ramN" (1:N) of {@code bytes}, write-through, 512-byte blocks. */
    GenDisk ram(int n, long bytes) {
        MemorySegment mem = arena.allocate(bytes, 4096);
        GenDisk[] self = new GenDisk[1];
        self[0] = GenDisk.builder("ram" + n, new DevT(1, n), bytes / 512, bio -> {
            long off = bio.sector() * 512;
            switch (bio.op()) {
                case READ -> MemorySegment.copy(mem, off, bio.data(), 0, bio.size());
                case WRITE -> MemorySegment.copy(bio.data(), 0, mem, off, bio.size());
                case DISCARD, WRITE_ZEROES -> mem.asSlice(off, bio.size()).fill((byte) 0);
                default -> {}
            }
            bio.endio(BlkStatus.OK);
        }).limits(QueueLimits.of(512, 4096).setMaxSectors(2560)).build();
        registry.add(self[0]);
        return self[0];
    }

    /** A disk "badN" (7:N) whose every bio fails with IOERR and {@code reason}. */
    GenDisk failing(int n, long bytes, String reason) {
        GenDisk disk = GenDisk.builder("bad" + n, new DevT(7, n), bytes / 512, bio -> bio.endio(BlkStatus.ioerr(reason)))
                .limits(QueueLimits.of(512, 4096)).build();
        registry.add(disk);
        return disk;
    }

    /** Runs a command and returns what it printed on out (and err after a line "--err--" when any). */
    static String capture(Command c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            c.run(o, e);
        }
        String s = out.toString(StandardCharsets.UTF_8);
        String es = err.toString(StandardCharsets.UTF_8);
        return es.isEmpty() ? s : s + "--err--\n" + es;
    }

    interface Command {
        void run(PrintStream out, PrintStream err);
    }

    static List<String> words(String line) {
        return List.of(line.trim().split("\\s+"));
    }

    @Override
    public void close() {
        dm.close();
    }
}
