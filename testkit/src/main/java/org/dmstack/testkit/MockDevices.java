package org.dmstack.testkit;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.lenient;
import static org.mockito.Mockito.mock;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.dmstack.block.Attributes;
import org.dmstack.block.BadBlocks;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dax.DaxOperations;
import org.dmstack.dm.TableLine;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;

/** Mockito mocks of block devices with a name, number, size and limits, and of DAX drivers, for unit tests of a target's constructor, map and DAX calls. */
public final class MockDevices {
    private MockDevices() {}

    /** A mocked device of {@code sectors} sectors, 512-byte logical blocks, no write cache, no DAX. */
    public static BlockDevice device(String name, int major, int minor, long sectors) {
        return device(name, new DevT(major, minor), sectors);
    }

    public static BlockDevice device(String name, DevT devt, long sectors) {
        BlockDevice d = mock(BlockDevice.class, name);
        lenient().when(d.name()).thenReturn(name);
        lenient().when(d.devt()).thenReturn(devt);
        lenient().when(d.capacity()).thenReturn(sectors);
        lenient().when(d.sizeBytes()).thenReturn(sectors * 512);
        lenient().when(d.limits()).thenReturn(QueueLimits.of(512, 4096));
        lenient().when(d.badBlocks()).thenReturn(new BadBlocks());
        lenient().when(d.attributes()).thenReturn(new Attributes());
        return d;
    }

    /**
     * A mocked driver's dax_operations whose direct_access maps {@code pages} pages of
     * {@code memory} from its start, at page frame {@code pfn}, whatever page is asked for; its
     * copies and flush do nothing but can be verified.
     */
    public static DaxOperations daxDriver(MemorySegment memory, long pfn, long pages) {
        DaxOperations ops = mock(DaxOperations.class);
        lenient().doAnswer(call -> {
            call.<DaxMapping>getArgument(2).set(memory, 0, pfn, pages);
            return null;
        }).when(ops).directAccess(anyLong(), anyLong(), any());
        return ops;
    }

    /**
     * The context a constructor gets for the table line {@code <begin> <length> <type> <args>},
     * whose devices are the ones given (found by name or major:minor; any other path is refused
     * as core refuses it: "PATH: No such device").
     */
    public static TargetContext line(long begin, long length, String args, BlockDevice... devices) {
        List<String> words = args.isBlank() ? List.of() : List.of(args.trim().split("\\s+"));
        return TargetContext.of("test", new TableLine(1, begin, length, "test", words), path -> {
            for (BlockDevice d : devices) if (path.equals(d.name()) || path.equals(d.devt().toString())) return d;
            throw new TargetException(path + ": No such device");
        });
    }
}
