package org.dmstack.block;

/**
 * What a driver does with a bio (Linux's submit_bio in block_device_operations). Called by
 * {@link GenDisk} after it has checked the bio against the device: in range, aligned to the
 * logical block size, not empty; PREFLUSH and FUA already dropped when the device has no write
 * cache. The handler must end the bio exactly once, now or later, from any thread.
 */
@FunctionalInterface
public interface BioHandler {
    void submitBio(Bio bio);
}
