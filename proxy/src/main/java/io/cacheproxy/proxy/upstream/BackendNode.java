package io.cacheproxy.proxy.upstream;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend Redis server of a pool, shared by every event loop. Holds what the whole proxy knows
 * of the node: its address, whether it is reachable, and its error count. Each event loop keeps its
 * own {@link UpstreamConnection}s to it.
 */
public final class BackendNode {
    private final String pool;
    private final String host;
    private final int port;
    private final String name;
    private final AtomicBoolean up = new AtomicBoolean(true);
    private final LongAdder errors = new LongAdder();
    private volatile String serverVersion;

    public BackendNode(String pool, String host, int port) {
        this.pool = pool;
        this.host = host;
        this.port = port;
        this.name = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    public String pool() {
        return pool;
    }

    /** {@code host:port}, as in the config and in error replies. */
    public String name() {
        return name;
    }

    public InetSocketAddress address() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
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
        return io.cacheproxy.proxy.ErrorReplies.backendUnavailable(pool, name);
    }

    @Override
    public String toString() {
        return "pool " + pool + ", node " + name;
    }
}
