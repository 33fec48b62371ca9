package io.cacheproxy.proxy.upstream;

import io.cacheproxy.routing.HashRing;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A named set of backend nodes and how keys spread over them: a {@link HashRing} over the node
 * names. Shared by every event loop; immutable (a topology change builds a new pool) apart from
 * one counter per node: the connections for blocking commands open to it, which every event loop's
 * {@link BlockingConnections} keeps under {@link UpstreamSettings#blockingConnections()}.
 */
public final class BackendPool {
    private final String name;
    private final List<BackendNode> nodes;
    private final HashRing ring;
    private final UpstreamSettings settings;
    private final boolean adminCommandsPass;
    /** Per node: its open connections for blocking commands, over all event loops. Never resized. */
    private final Map<BackendNode, AtomicInteger> blockingConnections = new IdentityHashMap<>();

    public BackendPool(String name, List<BackendNode> nodes, int vnodes, UpstreamSettings settings,
                       boolean adminCommandsPass) {
        this.name = Objects.requireNonNull(name, "name");
        this.nodes = List.copyOf(nodes);
        this.settings = Objects.requireNonNull(settings, "settings");
        this.adminCommandsPass = adminCommandsPass;
        List<String> names = new ArrayList<>();
        for (BackendNode node : nodes) {
            names.add(node.name());
            blockingConnections.put(node, new AtomicInteger());
        }
        this.ring = new HashRing(names, vnodes);
    }

    public String name() {
        return name;
    }

    public List<BackendNode> nodes() {
        return nodes;
    }

    public boolean isSingleNode() {
        return nodes.size() == 1;
    }

    public UpstreamSettings settings() {
        return settings;
    }

    /** {@code admin-commands: pass}: server administration goes to the nodes instead of being refused. */
    public boolean adminCommandsPass() {
        return adminCommandsPass;
    }

    /** The node owning the key {@code buf[offset, offset+length)}. */
    public BackendNode nodeFor(ByteBuf buf, int offset, int length) {
        return nodes.size() == 1 ? nodes.get(0) : nodes.get(ring.nodeFor(buf, offset, length));
    }

    /**
     * Counts one more connection for blocking commands to {@code node}, unless it already has
     * {@link UpstreamSettings#blockingConnections()}; returns whether it did. Safe from any thread.
     */
    boolean tryOpenBlockingConnection(BackendNode node) {
        AtomicInteger open = blockingConnections.get(node);
        int n;
        do {
            n = open.get();
            if (n >= settings.blockingConnections()) {
                return false;
            }
        } while (!open.compareAndSet(n, n + 1));
        return true;
    }

    /** Counts one connection for blocking commands to {@code node} less: it has been closed. */
    void blockingConnectionClosed(BackendNode node) {
        blockingConnections.get(node).decrementAndGet();
    }
}
