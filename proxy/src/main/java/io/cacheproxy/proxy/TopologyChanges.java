package io.cacheproxy.proxy;

import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.ProxyConfig;
import java.util.List;

/**
 * Changes to the nodes of sharded pools while the proxy runs ({@code cacheproxy nodes add/remove},
 * {@code POST /nodes}, {@code DELETE /nodes/...}, {@code POST /reload}). A change starts a
 * migration: keys whose replicas change are copied to their new nodes in the background while
 * reads still go to their old ones and writes reach both; once every key is copied the pool
 * switches to the new ring, and a removed node leaves. One migration per pool at a time.
 * Safe from any thread.
 */
public interface TopologyChanges {

    /**
     * Starts adding {@code node} to the sharded pool {@code pool}; returns a line saying what
     * started. Throws {@link IllegalArgumentException} (with a message for the operator) when the
     * pool does not exist or is not sharded, the node is already in it, or it is migrating.
     */
    String addNode(String pool, HostAndPort node);

    /**
     * Starts removing {@code node} from the sharded pool {@code pool}; returns a line saying what
     * started. Throws {@link IllegalArgumentException} when the pool does not exist or is not
     * sharded, the node is not in it, it would leave fewer nodes than the replication factor, or
     * the pool is migrating.
     */
    String removeNode(String pool, HostAndPort node);

    /**
     * Applies the node lists of {@code config}'s sharded pools to the running pools (the only
     * settings a reload changes); returns one line per change started and one per difference that
     * needs a restart ({@code "not applied (needs a restart): ..."}); empty when nothing differs.
     * Throws {@link IllegalArgumentException}, and changes nothing, when a node change cannot start
     * (as {@link #addNode} and {@link #removeNode} would refuse it).
     */
    List<String> reload(ProxyConfig config);

    /** One line per pool that is migrating now: pool, nodes added/removed, keys copied so far. */
    List<String> migrations();
}
