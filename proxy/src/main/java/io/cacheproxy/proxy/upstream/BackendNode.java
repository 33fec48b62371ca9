package io.cacheproxy.proxy.upstream;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend Redis server of a pool, shared by every event loop. Holds what the whole proxy knows
 * of the node: its address, whether it is reachable, and its error count. Each event loop keeps its
 * own {@link UpstreamConnection}s to it.
 *
 * <p>The address can move: the node of a sentinel pool is "the master of {@code master-name}",
 * and {@link #moveTo} points it at a new server after a failover. Each move bumps
 * {@link #addressEpoch()}; connections opened to an older address close and reconnect.
 */
public final class BackendNode {
    private final String pool;
    /** Current address; replaced as a whole so host, port, name and epoch are read consistently. */
    private volatile Address address;
    private final AtomicBoolean up = new AtomicBoolean(true);
    private final LongAdder errors = new LongAdder();
    private volatile String serverVersion;
    /** Ejection and trust, for the nodes of a sharded pool; null for the others. */
    private volatile NodeHealth health;
    /** Told when a connection to the node is lost or refused (a cluster pool re-reads its slot map). */
    private volatile Runnable onLost = () -> { };

    /** Where the node is: {@code name} is {@code host:port} as the config and error replies spell it. */
    public record Address(String host, int port, String name, int epoch) {
        static Address of(String host, int port, int epoch) {
            return new Address(host, port, (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port, epoch);
        }
    }

    public BackendNode(String pool, String host, int port) {
        this.pool = pool;
        this.address = Address.of(host, port, 0);
    }

    /** The current address. */
    public Address current() {
        return address;
    }

    /** Bumped by every {@link #moveTo}; a connection opened at an older epoch is stale. */
    public int addressEpoch() {
        return address.epoch();
    }

    /**
     * Points the node at {@code host:port} (a new master). Returns false, and changes nothing, when
     * it is already there. Safe from any thread.
     */
    public synchronized boolean moveTo(String host, int port) {
        Address now = address;
        if (now.host().equals(host) && now.port() == port) {
            return false;
        }
        address = Address.of(host, port, now.epoch() + 1);
        return true;
    }

    public String pool() {
        return pool;
    }

    /** {@code host:port} of the current address, as in the config and in error replies. */
    public String name() {
        return address.name();
    }

    public String host() {
        return address.host();
    }

    public int port() {
        return address.port();
    }

    public boolean isUp() {
        return up.get();
    }

    void markUp() {
        up.set(true);
    }

    void markDown() {
        up.set(false);
    }

    /** Ejection and trust ({@link NodeHealth}); null unless the node is a shard of a sharded pool. */
    public NodeHealth health() {
        return health;
    }

    public void health(NodeHealth health) {
        this.health = health;
    }

    /**
     * A connection to the node was lost or refused, or a reply did not come in time: a failure for
     * its circuit breaker.
     */
    void lost(String why) {
        try {
            onLost.run();
            NodeHealth h = health;
            if (h != null) {
                h.failed(why);      // trust is lost with the writes the connection failed, not with it
            }
        } catch (RuntimeException e) {
            // a listener's failure must not leave the connection that reported the loss half-closed
            org.slf4j.LoggerFactory.getLogger(BackendNode.class).warn("{}: reacting to a lost connection failed", this, e);
        }
    }

    /** Sets what {@link #lost} runs besides feeding the node's health. */
    void onLost(Runnable onLost) {
        this.onLost = onLost;
    }

    void countError() {
        errors.increment();
    }

    /** The Redis version the node reported in its HELLO reply, or null before the first handshake. */
    public String serverVersion() {
        return serverVersion;
    }

    void serverVersion(String version) {
        if (version != null) {
            serverVersion = version;
        }
    }

    public long errorCount() {
        return errors.sum();
    }

    /** The error reply a client gets when this node cannot answer. */
    public String unavailableError() {
        return io.cacheproxy.proxy.ErrorReplies.backendUnavailable(pool, name());
    }

    @Override
    public String toString() {
        return "pool " + pool + ", node " + name();
    }
}
