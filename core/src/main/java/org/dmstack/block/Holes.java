package org.dmstack.block;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * What a driver of sparse storage (brd) may tell beside bios: where its data is, as lseek(2)'s
 * SEEK_DATA and SEEK_HOLE tell it of a sparse file. A hole holds no storage and reads as zeros;
 * everything else is data, which may be zeros too. An exporter answers allocation queries with it
 * (the NBD export's base:allocation, so that nbdcopy and qemu-img skip what was never written). A
 * driver that cannot tell offers none, and readers take the whole device as data.
 *
 * <p>The answer is a snapshot: a write or discard racing the query may change it at once. Both
 * calls must be cheap (no I/O, nothing allocated) and take byte offsets with
 * {@code 0 <= offset <= end <= } the device's size.
 */
@ConsumerType
public interface Holes {
    /** The first byte from {@code offset} on, and before {@code end}, that is data; {@code end} when there is none. */
    long seekData(long offset, long end);

    /** The first byte from {@code offset} on, and before {@code end}, that is in a hole; {@code end} when there is none. */
    long seekHole(long offset, long end);
}
