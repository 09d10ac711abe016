package org.dmstack.nbd.server;

import java.util.List;

/**
 * Where exports' backends come from: the server knows exports by name, and asks this for what
 * an export's configured source ("ram0", "/dev/dm-0", "1:0") is now. In OSGi it is a service
 * that comes and goes (nbd-export's, gone while core is being updated); while there is none,
 * every export is away and its requests are held.
 */
public interface Backends {
    /** The backend {@code source} names now, or null when there is none. The same object for as long as it lasts. */
    Backend find(String source);

    /** Every source there is now, by name: what is exported when no export is configured. */
    List<String> names();

    /** Calls {@code changed} after a backend arrives or is withdrawn, until {@link #unfollow}. */
    void follow(Runnable changed);

    void unfollow(Runnable changed);
}
