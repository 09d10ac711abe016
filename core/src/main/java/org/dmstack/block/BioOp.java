package org.dmstack.block;

/** What a bio asks for (Linux's REQ_OP_*). */
public enum BioOp {
    READ,
    WRITE,
    /** An empty flush: make everything written before it durable. */
    FLUSH,
    DISCARD,
    WRITE_ZEROES;

    /** True for the operations that carry a data buffer. */
    public boolean hasData() {
        return this == READ || this == WRITE;
    }

    /** True for the operations that change the device's contents. */
    public boolean isWrite() {
        return this == WRITE || this == DISCARD || this == WRITE_ZEROES;
    }
}
