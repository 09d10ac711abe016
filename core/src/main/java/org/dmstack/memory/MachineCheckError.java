package org.dmstack.memory;

/**
 * A plain (not machine-check-safe) read touched poisoned memory. On real hardware this is an
 * unrecoverable machine check; in dmstack it is an Error, and no read path may ever reach it.
 */
public final class MachineCheckError extends Error {
    private static final long serialVersionUID = 1L;

    public MachineCheckError(long address) {
        super(String.format("Machine check: read of poisoned memory at 0x%x", address));
    }
}
