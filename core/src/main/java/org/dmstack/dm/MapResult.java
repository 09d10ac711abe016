package org.dmstack.dm;

/** What a target's map did with a bio (Linux's DM_MAPIO_*). */
public enum MapResult {
    /** The bio was remapped ({@code Bio.remap}); core submits it to its new device. */
    REMAPPED,
    /** The target took the bio and will end it itself (or already has). */
    SUBMITTED,
    /** The bio must fail with an I/O error. */
    KILL
}
