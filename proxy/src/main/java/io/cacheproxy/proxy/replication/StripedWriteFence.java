package io.cacheproxy.proxy.replication;

import io.cacheproxy.routing.KeyHash;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Lets a copy of a key between replicas (a repair, or the copy after a command that ran on one
 * replica only) tell whether a write to a key went through this proxy while it copied the key: a
 * copy read from the source before such a write, and written to the target after it, would undo
 * it on the target. Writes count themselves in and out per stripe of keys (by ring hash); a copy
 * takes a {@link #stamp} before reading its source and is kept only if the stripe stayed
 * {@link #quietSince quiet} until the target acknowledged it, otherwise it is done again.
 *
 * <p>Counting costs two atomic increments per write on a 1 MB table of stripes, so copies see every
 * write of this proxy. Safe from any thread.
 */
public final class StripedWriteFence implements NodeRepair.WriteFence {
    private static final int STRIPES = 1 << 16;

    private final AtomicLongArray started = new AtomicLongArray(STRIPES);
    private final AtomicLongArray finished = new AtomicLongArray(STRIPES);
    /** A write to the key with ring hash {@code hash} is being sent. */
    public void begin(int hash) {
        started.incrementAndGet(hash & (STRIPES - 1));
    }

    /** The write {@link #begin} counted has been answered or has failed on every replica. */
    public void end(int hash) {
        finished.incrementAndGet(hash & (STRIPES - 1));
    }

    /** -1 while a write to the stripe is in flight: such a copy can only be redone. */
    @Override
    public long stamp(byte[] key) {
        int stripe = KeyHash.hash(key) & (STRIPES - 1);
        long done = finished.get(stripe);
        long begun = started.get(stripe);
        return begun == done ? begun : -1;
    }

    @Override
    public boolean quietSince(byte[] key, long stamp) {
        if (stamp < 0) {
            return false;
        }
        int stripe = KeyHash.hash(key) & (STRIPES - 1);
        long done = finished.get(stripe);
        return done == stamp && started.get(stripe) == stamp;
    }
}
