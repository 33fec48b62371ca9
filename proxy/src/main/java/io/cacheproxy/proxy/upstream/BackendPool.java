package io.cacheproxy.proxy.upstream;

import io.cacheproxy.routing.HashRing;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A named set of backend nodes and how keys spread over them: a {@link HashRing} over the node
 * names. Shared by every event loop; immutable (a topology change builds a new pool).
 */
public final class BackendPool {
    private final String name;
    private final List<BackendNode> nodes;
    private final HashRing ring;
    private final UpstreamSettings settings;
    private final boolean adminCommandsPass;

    public BackendPool(String name, List<BackendNode> nodes, int vnodes, UpstreamSettings settings,
                       boolean adminCommandsPass) {
        this.name = Objects.requireNonNull(name, "name");
        this.nodes = List.copyOf(nodes);
        this.settings = Objects.requireNonNull(settings, "settings");
        this.adminCommandsPass = adminCommandsPass;
        List<String> names = new ArrayList<>();
        for (BackendNode node : nodes) {
            names.add(node.name());
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
}
