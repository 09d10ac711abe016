package org.dmstack.block;

/** Modifiers of a bio (Linux's REQ_PREFLUSH and REQ_FUA). */
public enum BioFlag {
    /** Flush the device's write cache before doing this bio. */
    PREFLUSH,
    /** Forced unit access: this bio's data is durable when it completes. */
    FUA
}
