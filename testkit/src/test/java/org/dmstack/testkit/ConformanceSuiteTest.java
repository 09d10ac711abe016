package org.dmstack.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.dax.DaxMapping;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;

/** The suite must catch broken targets, and say what is wrong. */
class ConformanceSuiteTest {
    enum Flaw { NONE, MAPS_OUTSIDE, DROPS_FLUSHES, DAX_DISAGREES, IGNORES_CHUNKS }

    /** linear, with one deliberate flaw: {@code <dev> <offset>}. */
    static final class Flawed implements TargetType {
        final Flaw flaw;

        Flawed(Flaw flaw) {
            this.flaw = flaw;
        }

        @Override
        public String name() {
            return "flawed";
        }

        @Override
        public Target construct(TargetContext ctx) throws TargetException {
            if (ctx.args().size() != 2) throw new TargetException("Invalid argument count");
            BlockDevice dev = ctx.getDevice(ctx.args().get(0));
            long offset = Long.parseLong(ctx.args().get(1));
            long begin = ctx.begin(), length = ctx.length();
            return new Target() {
                @Override
                public MapResult map(Bio bio) {
                    if (bio.op() == BioOp.FLUSH) {
                        if (flaw == Flaw.DROPS_FLUSHES) {
                            bio.endio(BlkStatus.OK);
                            return MapResult.SUBMITTED;
                        }
                        bio.remap(dev, 0);
                        return MapResult.REMAPPED;
                    }
                    long sector = bio.sector() - begin;
                    if (flaw == Flaw.IGNORES_CHUNKS) sector = (sector % 16) * 2 + sector / 16 % 2 + sector / 32 * 32; // a striping that needs max_io_len
                    bio.remap(dev, offset + sector + (flaw == Flaw.MAPS_OUTSIDE && sector >= length - 8 ? 64 : 0));
                    return MapResult.REMAPPED;
                }

                @Override
                public String status(StatusType type) {
                    return type == StatusType.TABLE ? dev.devt() + " " + offset : "";
                }

                @Override
                public void iterateDevices(DeviceVisitor visitor) {
                    visitor.visit(dev, offset, length);
                }

                @Override
                public boolean supportsDax() {
                    return true;
                }

                @Override
                public void directAccess(long pgoff, long nrPages, DaxMapping map) {
                    long page = (offset + pgoff * 8 - begin) / 8 + (flaw == Flaw.DAX_DISAGREES ? 1 : 0);
                    Target.daxDevice(dev).directAccess(page, nrPages, map);
                }
            };
        }
    }

    private static List<DynamicTest> suite(Flaw flaw) {
        return TargetConformance.of(new Flawed(flaw), "0 256 flawed ram0 64\n256 256 flawed ram1 0").tests().toList();
    }

    private static void passes(DynamicTest test) throws Throwable {
        test.getExecutable().execute();
    }

    private static String failure(List<DynamicTest> suite, String name) {
        DynamicTest test = suite.stream().filter(t -> t.getDisplayName().equals(name)).findFirst().orElseThrow();
        return assertThrows(AssertionError.class, () -> test.getExecutable().execute(), name + " must fail").getMessage();
    }

    @Test
    void aCorrectTargetPassesEveryCheck() throws Throwable {
        for (DynamicTest t : suite(Flaw.NONE)) passes(t);
    }

    @Test
    void aTargetThatMapsOutsideItsDeviceIsCaught() {
        assertEquals("sector 248 of the mapped device was written to ram0 sector 376, outside what the target declared for ram0 (iterate_devices: [64, 320))",
                failure(suite(Flaw.MAPS_OUTSIDE), "maps every sector inside the devices it declared"));
    }

    @Test
    void aTargetThatDropsFlushesIsCaught() {
        assertEquals("a FLUSH of the mapped device never reached ram0, which has a write cache",
                failure(suite(Flaw.DROPS_FLUSHES), "flushes reach every device with a write cache"));
    }

    @Test
    void aTargetWhoseDaxMappingDisagreesWithItsBioMappingIsCaught() {
        assertEquals("direct_access of page 0 reaches ram0 byte 36864 (sector 72), but bios for sector 0 go to ram0 sector 64",
                failure(suite(Flaw.DAX_DISAGREES), "DAX reaches the same bytes as bios"));
    }

    @Test
    void aTargetThatNeedsMaxIoLenButDoesNotSayIsCaught() {
        String message = failure(suite(Flaw.IGNORES_CHUNKS), "multi-sector bios land where one-sector bios do (split at max_io_len)");
        assertEquals(true, message.endsWith("the target maps longer bios differently (is max_io_len right?)"), message);
    }
}
