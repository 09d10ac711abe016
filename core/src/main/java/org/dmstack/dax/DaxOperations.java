package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import org.dmstack.iov.IovIter;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Linux's dax_operations: what every DAX-capable layer implements. Drivers implement it over their
 * memory; device-mapper implements it by mapping the page offset through its table and calling
 * the same operation on the device below. Callers go through {@link DaxDevice}, which checks the
 * arguments and that the device is alive before calling in.
 *
 * <p>{@code addr} is always memory obtained from {@link #directAccess} (possibly of a device
 * further down), sliced to start at the byte the copy begins at.
 */
@ConsumerType
public interface DaxOperations {
    /**
     * Called to map {@code nrPages} pages from page offset {@code pgoff} for direct load/store:
     * returns the memory, its page frame number and how many contiguous pages are available there
     * (at least one, possibly fewer or more than asked).
     *
     * @throws DaxException EIO when a page in the range has a media error, ERANGE past the end
     */
    DaxMapping directAccess(long pgoff, long nrPages);

    /**
     * Called for a DAX write: copies {@code bytes} from {@code iter} to {@code addr}. A device with
     * a DAX write cache makes the copy durable before returning (copy_from_iter_flushcache).
     * Returns the bytes copied.
     */
    long copyFromIter(long pgoff, MemorySegment addr, long bytes, IovIter iter);

    /**
     * Called for a DAX read: copies {@code bytes} from {@code addr} into {@code iter},
     * machine-check safe — it stops at the first poisoned cache line and returns the short count.
     */
    long copyToIter(long pgoff, MemorySegment addr, long bytes, IovIter iter);

    /** Called to write back CPU caches for a range written through direct_access stores. */
    void flush(long pgoff, MemorySegment addr, long size);
}
