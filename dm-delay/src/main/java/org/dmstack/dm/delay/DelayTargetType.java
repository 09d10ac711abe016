package org.dmstack.dm.delay;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import org.dmstack.block.Bio;
import org.dmstack.block.BioFlag;
import org.dmstack.block.BioOp;
import org.dmstack.block.BlockDevice;
import org.dmstack.dm.DeviceVisitor;
import org.dmstack.dm.MapResult;
import org.dmstack.dm.StatusType;
import org.dmstack.dm.Target;
import org.dmstack.dm.TargetArgs;
import org.dmstack.dm.TargetContext;
import org.dmstack.dm.TargetException;
import org.dmstack.dm.TargetType;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

/**
 * The "delay" target (Linux 6.1's dm-delay.c): maps like linear, and holds each bio for a number
 * of milliseconds before sending it on, separately for reads, writes and flushes, each of which
 * may go to a device of its own.
 *
 * <pre>{@code
 * <start> <length> delay <dev> <offset> <delay ms> [<write dev> <write offset> <write delay ms> [<flush dev> <flush offset> <flush delay ms>]]
 * }</pre>
 *
 * With three arguments, all I/O uses them; with six, the second set is for writes (and flushes);
 * with nine, the third is for flushes. Held bios never block the submitter: a timer sends them on
 * from its own thread, oldest first. Suspending the device sends every held bio on at once, and
 * nothing is held again until it resumes (delay_presuspend, delay_resume).
 */
@Component(service = TargetType.class)
public final class DelayTargetType implements TargetType {
    private final DelayTimer timer;
    private final DelayTimer.SystemTimer owned;

    /** A type on the real clock, with its own timer thread. */
    public DelayTargetType() {
        this.owned = DelayTimer.system();
        this.timer = owned;
    }

    /** A type on {@code timer} (a test's, or one shared with other code). */
    public DelayTargetType(DelayTimer timer) {
        this.owned = null;
        this.timer = timer;
    }

    /** Stops the timer thread this type made, once the service is gone. */
    @Deactivate
    void deactivate() {
        if (owned != null) owned.close();
    }

    @Override
    public String name() {
        return "delay";
    }

    @Override
    public int[] version() {
        return new int[] {1, 3, 0};
    }

    /** delay_ctr: three, six or nine arguments, each set read by delay_class_ctr. */
    @Override
    public Target construct(TargetContext context) throws TargetException {
        List<String> argv = context.args();
        int argc = argv.size();
        if (argc != 3 && argc != 6 && argc != 9) throw new TargetException("Requires exactly 3, 6 or 9 arguments");
        TargetArgs as = context.argSet();
        DelayClass read = delayClass(as, argv, 0);
        DelayClass write = delayClass(as, argv, argc == 3 ? 0 : 3);
        DelayClass flush = delayClass(as, argv, argc == 9 ? 6 : argc == 6 ? 3 : 0);
        return new Delay(read, write, flush, argc, context.begin(), context.length(), timer);
    }

    /** delay_class_ctr: {@code <dev> <offset> <delay ms>} at {@code argv[first]}; the device is looked up last. */
    private static DelayClass delayClass(TargetArgs as, List<String> argv, int first) throws TargetException {
        long start = TargetArgs.parseSector(argv.get(first + 1), "Invalid device sector");
        long delay = TargetArgs.scanU32(argv.get(first + 2)).orElseThrow(() -> new TargetException("Invalid delay"));
        BlockDevice device = as.device(argv.get(first), "Device lookup failed");
        return new DelayClass(device, start, delay);
    }

    /** One kind of I/O's device, offset and delay, and how many of its bios are held (delay_class). */
    static final class DelayClass {
        final BlockDevice device;
        final long start;
        final long delay;
        int ops; // guarded by the Delay that holds this class

        DelayClass(BlockDevice device, long start, long delay) {
            this.device = device;
            this.start = start;
            this.delay = delay;
        }

        /** DMEMIT_DELAY_CLASS: {@code <maj:min> <offset> <delay>}. */
        String table() {
            return device.devt() + " " + Long.toUnsignedString(start) + " " + delay;
        }
    }

    /** A held bio and when it is due (dm_delay_info). */
    private record Delayed(Bio bio, DelayClass delayClass, long expires) {}

    /** One delay table line (delay_c). */
    static final class Delay implements Target {
        private final DelayClass read;
        private final DelayClass write;
        private final DelayClass flush;
        private final int argc;
        private final long begin;
        private final long length;
        private final DelayTimer timer;
        /** delayed_bios, oldest first; with mayDelay, ops and the timer fields, guarded by this. */
        private final LinkedList<Delayed> delayed = new LinkedList<>();
        private boolean mayDelay = true;
        private DelayTimer.Cancellable pendingTimer;
        private long timerExpires;

        Delay(DelayClass read, DelayClass write, DelayClass flush, int argc, long begin, long length, DelayTimer timer) {
            this.read = read;
            this.write = write;
            this.flush = flush;
            this.argc = argc;
            this.begin = begin;
            this.length = length;
            this.timer = timer;
        }

        /** delay_map: choose the class, remap, and hold the bio if the class has a delay. */
        @Override
        public MapResult map(Bio bio) {
            DelayClass c;
            if (bio.op() == BioOp.READ) c = read;
            else if (bio.op() == BioOp.FLUSH || bio.hasFlag(BioFlag.PREFLUSH)) c = flush;
            else c = write;
            // An empty flush has no sector to map; it just goes to the device.
            bio.remap(c.device, bio.sectors() > 0 ? c.start + (bio.sector() - begin) : bio.sector());
            return delayBio(c, bio);
        }

        /** delay_bio; mayDelay is read under the lock, so a bio cannot slip in after presuspend flushed. */
        private MapResult delayBio(DelayClass c, Bio bio) {
            if (c.delay == 0) return MapResult.REMAPPED;
            long expires;
            synchronized (this) {
                if (!mayDelay) return MapResult.REMAPPED;
                expires = timer.nowMillis() + c.delay;
                c.ops++;
                delayed.addLast(new Delayed(bio, c, expires));
                queueTimeout(expires);
            }
            return MapResult.SUBMITTED;
        }

        /** queue_timeout: (re)arm the one timer if nothing is pending or this is due sooner. */
        private void queueTimeout(long expires) {
            if (pendingTimer == null || expires < timerExpires) {
                if (pendingTimer != null) pendingTimer.cancel();
                timerExpires = expires;
                pendingTimer = timer.schedule(this::flushExpiredBios, expires);
            }
        }

        /** The timer fired (handle_delayed_timer, then the flush_expired_bios work). */
        private void flushExpiredBios() {
            synchronized (this) {
                pendingTimer = null;
            }
            submit(flushDelayedBios(false));
        }

        /** flush_delayed_bios: takes the due bios (all of them with {@code all}) in order, and re-arms for the rest. */
        private synchronized List<Bio> flushDelayedBios(boolean all) {
            List<Bio> due = new ArrayList<>();
            long now = timer.nowMillis();
            long next = 0;
            boolean startTimer = false;
            for (Iterator<Delayed> it = delayed.iterator(); it.hasNext(); ) {
                Delayed d = it.next();
                if (all || now - d.expires() >= 0) {
                    it.remove();
                    due.add(d.bio());
                    d.delayClass().ops--;
                } else if (!startTimer || d.expires() < next) {
                    startTimer = true;
                    next = d.expires();
                }
            }
            if (startTimer) queueTimeout(next);
            return due;
        }

        /** flush_bios: sends the bios on, outside the lock, in the order they came. */
        private static void submit(List<Bio> bios) {
            for (Bio bio : bios) bio.device().submit(bio);
        }

        /** delay_presuspend: hold nothing more, stop the timer and send every held bio on. */
        @Override
        public void presuspend() {
            synchronized (this) {
                mayDelay = false;
                if (pendingTimer != null) pendingTimer.cancel();
                pendingTimer = null;
            }
            submit(flushDelayedBios(true));
        }

        /** delay_resume. */
        @Override
        public synchronized void resume() {
            mayDelay = true;
        }

        /** A table is normally suspended before it goes, but no held bio may be lost if it is not. */
        @Override
        public void destroy() {
            presuspend();
        }

        /**
         * INFO: {@code <reads held> <writes held> <flushes held>}. TABLE: the sets the line was
         * given ({@code <maj:min> <offset> <delay>} each).
         */
        @Override
        public String status(StatusType type) {
            return switch (type) {
                case INFO -> {
                    synchronized (this) {
                        yield read.ops + " " + write.ops + " " + flush.ops;
                    }
                }
                case TABLE -> read.table() + (argc >= 6 ? " " + write.table() : "") + (argc >= 9 ? " " + flush.table() : "");
            };
        }

        @Override
        public void iterateDevices(DeviceVisitor visitor) {
            visitor.visit(read.device, read.start, length);
            visitor.visit(write.device, write.start, length);
            visitor.visit(flush.device, flush.start, length);
        }

        /** 6.1's delay does not set num_write_zeroes_bios. */
        @Override
        public int numWriteZeroesBios() {
            return 0;
        }
    }
}
