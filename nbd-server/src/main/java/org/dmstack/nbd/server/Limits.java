package org.dmstack.nbd.server;

/**
 * How long and how much each connection may take, as the server was built: the hold timeout
 * for requests whose device is away, the time a client has to finish the handshake, how long a
 * session may sit idle (0: for ever), the payload bytes one connection may have in flight, and
 * the longest a connection's reader polls before it blocks ({@link BusyPoll}; 0: never), and how
 * many options a client may send before it chooses an export.
 */
record Limits(long holdNanos, long handshakeNanos, long idleNanos, int maxInflightBytes, long busyPollNanos, int maxOptions) {}
