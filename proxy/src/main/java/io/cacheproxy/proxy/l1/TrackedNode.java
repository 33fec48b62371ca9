package io.cacheproxy.proxy.l1;

import io.cacheproxy.proxy.upstream.BackendNode;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend node as L1 sees it: its {@link InvalidationLink} and the epoch of its entries. Every
 * entry records the epoch it was filled in; bumping the epoch ({@link NearCache#dropNode}) makes
 * all of the node's entries misses at once, before they are swept out. The epoch moves when the
 * link is lost (invalidations may have been missed) and when the node's address moves (failover).
 * Thread-safe.
 */
public final class TrackedNode {
    private final BackendNode node;
    private final AtomicInteger epoch = new AtomicInteger();
    private volatile InvalidationLink link;

    TrackedNode(BackendNode node) {
        this.node = node;
    }

    public BackendNode node() {
        return node;
    }

    /** The node's invalidation link; null when L1 has none (both tracking and broadcast off). */
    public InvalidationLink link() {
        return link;
    }

    void link(InvalidationLink link) {
        this.link = link;
    }

    /** The entry epoch: the node's address epoch plus every drop of its entries. */
    int epoch() {
        return epoch.get() + node.addressEpoch();
    }

    void bump() {
        epoch.incrementAndGet();
    }

    /**
     * Whether fills from this node may be cached now: its link is up, or it has none because both
     * invalidation paths are configured off (then entries are bounded by {@code l1.max-ttl} only).
     */
    public boolean fillable() {
        InvalidationLink l = link;
        return l == null || l.isUp();
    }

    @Override
    public String toString() {
        return node.toString();
    }
}
