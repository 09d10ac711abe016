package org.dmstack.dm;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.dmstack.block.Attributes;
import org.dmstack.block.BadBlocks;
import org.dmstack.block.Bio;
import org.dmstack.block.BlkStatus;
import org.dmstack.block.BlockDevice;
import org.dmstack.block.DevT;
import org.dmstack.block.QueueLimits;
import org.dmstack.dax.DaxDevice;
import org.dmstack.dax.DaxException;
import org.dmstack.dax.DaxException.Errno;
import org.dmstack.dax.DaxReadLock;

/**
 * A table's hold on a device below it (dm_dev). While the device is there, bios go straight to
 * it, themselves, not copies. When it goes away (its driver stopped or is being updated), bios are
 * held; they go to the device when one with the same name and number comes back, or fail with
 * IOERR when the hold time runs out. A bio that reached the device as it was withdrawn comes back
 * through {@link #handBack} (GenDisk.handBack) and is held the same way. DAX calls wait too.
 */
final class DeviceHandle implements BlockDevice, Bio.HandBack {
    private record Held(Bio bio, ScheduledFuture<?> timeout) {}

    private final DevT devt;
    private final String name;
    private final ScheduledExecutorService timer;
    private final LongSupplier holdMillis;
    private volatile BlockDevice current;
    private volatile BlockDevice last;
    private final List<Held> held = new ArrayList<>();
    int references; // guarded by DeviceMapper

    DeviceHandle(BlockDevice device, ScheduledExecutorService timer, LongSupplier holdMillis) {
        this.devt = device.devt();
        this.name = device.name();
        this.timer = timer;
        this.holdMillis = holdMillis;
        this.current = device;
        this.last = device;
    }

    /** True when {@code device} is the one this handle stands for (same name and number). */
    boolean sameIdentity(BlockDevice device) {
        return device.devt().equals(devt) && device.name().equals(name);
    }

    void bind(BlockDevice device) {
        List<Held> resume;
        synchronized (this) {
            current = device;
            last = device;
            resume = new ArrayList<>(held);
            held.clear();
            notifyAll();
        }
        for (Held h : resume) {
            h.timeout().cancel(false);
            submit(h.bio());
        }
    }

    synchronized void unbind() {
        current = null;
    }

    boolean bound() {
        return current != null;
    }

    @Override
    public void submit(Bio bio) {
        BlockDevice device = current;
        if (device == null) {
            synchronized (this) {
                device = current;
                if (device == null) {
                    hold(bio);
                    return;
                }
            }
        }
        // The bio itself goes down: a device withdrawn before doing it hands it back (handBack).
        bio.setHandBack(this);
        device.submit(bio);
    }

    /**
     * A bio that reached the device as its driver withdrew it (a race with the driver going away)
     * comes back undone: it is held like any other that arrives while the device is gone, and goes
     * to the device that comes back, or fails when the hold time runs out.
     */
    @Override
    public void handBack(Bio bio, BlockDevice from) {
        BlockDevice device;
        synchronized (this) {
            device = current;
            if (device == null || device == from) {
                hold(bio);
                return;
            }
        }
        bio.setHandBack(this);
        device.submit(bio);
    }

    private void hold(Bio bio) {
        long millis = holdMillis.getAsLong();
        Held[] self = new Held[1];
        ScheduledFuture<?> timeout = timer.schedule(() -> {
            synchronized (this) {
                if (!held.remove(self[0])) return;
            }
            bio.endio(BlkStatus.ioerr(gone(millis)));
        }, millis, TimeUnit.MILLISECONDS);
        self[0] = new Held(bio, timeout);
        held.add(self[0]);
    }

    private String gone(long millis) {
        return "device " + devt + " (" + name + ") is gone and did not come back within " + millis + " ms";
    }

    /** Takes back, without ending them, the held bios {@code which} selects (dm requeues them). */
    List<Bio> takeHeld(Predicate<Bio> which) {
        List<Held> taken = new ArrayList<>();
        synchronized (this) {
            for (Iterator<Held> i = held.iterator(); i.hasNext();) {
                Held h = i.next();
                if (which.test(h.bio())) {
                    taken.add(h);
                    i.remove();
                }
            }
        }
        List<Bio> bios = new ArrayList<>(taken.size());
        for (Held h : taken) {
            h.timeout().cancel(false);
            bios.add(h.bio());
        }
        return bios;
    }

    /** Fails every held bio now (the table is being destroyed). */
    void failHeld(String why) {
        List<Held> failed;
        synchronized (this) {
            failed = new ArrayList<>(held);
            held.clear();
        }
        for (Held h : failed) {
            h.timeout().cancel(false);
            h.bio().endio(BlkStatus.ioerr(why));
        }
    }

    /** The device, waiting up to the hold time for it to come back. */
    private BlockDevice await() {
        BlockDevice device = current;
        if (device != null) return device;
        long millis = holdMillis.getAsLong();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (this) {
            while (current == null) {
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new DaxException(Errno.ENXIO, gone(millis));
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DaxException(Errno.ENXIO, "interrupted while waiting for " + name + " to come back");
                }
            }
            return current;
        }
    }

    /**
     * The device's DAX device, waiting up to the hold time for the device to come back. A DAX call
     * waits outside its read-side section: a kill elsewhere (the driver's next device going away
     * in the same update) must not wait for a call that waits for this one.
     */
    @Override
    public DaxDevice dax() {
        BlockDevice device = current;
        return (device != null ? device : DaxReadLock.outside(this::await)).dax();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DevT devt() {
        return devt;
    }

    @Override
    public long capacity() {
        return last.capacity();
    }

    @Override
    public QueueLimits limits() {
        return last.limits();
    }

    @Override
    public boolean writeCache() {
        return last.writeCache();
    }

    @Override
    public boolean fua() {
        return last.fua();
    }

    /** Whether the device below is DAX-capable (without waiting for it). */
    boolean daxCapable() {
        return last.dax() != null;
    }

    boolean daxWriteCache() {
        DaxDevice dax = last.dax();
        return dax != null && dax.writeCache();
    }

    @Override
    public BadBlocks badBlocks() {
        return last.badBlocks();
    }

    @Override
    public Attributes attributes() {
        return last.attributes();
    }

    @Override
    public String toString() {
        return name + " (" + devt + ")" + (current == null ? " [gone]" : "");
    }


}
