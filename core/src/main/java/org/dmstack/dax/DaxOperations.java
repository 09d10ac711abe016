package org.dmstack.dax;

import java.lang.foreign.MemorySegment;
import org.dmstack.iov.IovIter;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * Linux's dax_operations: what a DAX-capable layer implements. Drivers map their memory and move
 * bytes in and out of it; device-mapper only maps, through its table to the device below, so the
 * copies and flushes are always those of the driver that owns the memory. Callers go through
 * {@link DaxDevice}, which checks the arguments and that the device is alive before calling in.
 */
@ConsumerType
public interface DaxOperations {
    /**
     * Called to map {@code nrPages} pages from page offset {@code pgoff} for direct load/store:
     * fills {@code map} through {@link DaxMapping#set} (at least one page; possibly fewer or more
     * than asked). A layer that maps onto a device below passes {@code map} to that device's
     * {@link DaxDevice#directAccess(long, long, DaxMapping)}.
     *
     * @throws DaxException EIO when a page in the range has a media error, ERANGE past the end
     */
    void directAccess(long pgoff, long nrPages, DaxMapping map);

    /**
     * Called on the owner of the memory for a DAX write: copies {@code bytes} from {@code iter} to
     * byte {@code offset} of {@code memory}, which direct_access gave for page {@code pgoff}. A
     * device with a DAX write cache makes the copy durable before returning
     * (copy_from_iter_flushcache). Returns the bytes copied.
     */
    default long copyFromIter(long pgoff, MemorySegment memory, long offset, long bytes, IovIter iter) {
        return iter.copyFromIter(memory, offset, bytes);
    }

    /**
     * Called on the owner of the memory for a DAX read: copies {@code bytes} from byte
     * {@code offset} of {@code memory} into {@code iter}, machine-check safe — it stops at the
     * first poisoned cache line and returns the short count.
     */
    default long copyToIter(long pgoff, MemorySegment memory, long offset, long bytes, IovIter iter) {
        return iter.copyToIterMcsafe(memory, offset, bytes);
    }

    /** Called on the owner of the memory to write back CPU caches for a range written through direct_access stores. */
    default void flush(long pgoff, MemorySegment memory, long offset, long bytes) {}
}
