package io.cacheproxy.proxy.upstream;

import io.cacheproxy.config.ReadFrom;
import io.cacheproxy.config.WriteAck;
import io.cacheproxy.routing.HashRing;
import io.cacheproxy.routing.KeyHash;
import io.cacheproxy.routing.KeySlot;
import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A named set of backend nodes and how keys spread over them: a {@link HashRing} over the node
 * names, or for a {@code type: cluster} pool the cluster's own slot map, which its
 * {@link ClusterTopology} keeps current. Shared by every event loop; otherwise immutable apart from
 * one counter per node: the connections for blocking commands open to it, which every event loop's
 * {@link BlockingConnections} keeps under {@link UpstreamSettings#blockingConnections()}.
 */
public final class BackendPool {
    private final String name;
    private final List<BackendNode> nodes;
    private final HashRing ring;
    /** The slot map of a cluster pool; null for the others. */
    private final ClusterTopology cluster;
    /** {@code replication.read-from: replica} or {@code any} on a cluster or sentinel pool. */
    private final boolean readFromReplicas;
    /** {@code read-from: any}: the master takes its turn among the replicas. */
    private final boolean readFromMasterToo;
    /** A sentinel pool's replicas as its watcher knows them; null for other pools. */
    private final Supplier<List<BackendNode>> sentinelReplicas;
    private final AtomicInteger nextReplica = new AtomicInteger();
    private final UpstreamSettings settings;
    private final boolean adminCommandsPass;
    /** {@code replication.factor} of a sharded pool; 1 for the others. */
    private final int factor;
    private final WriteAck writeAck;
    private final ReadFrom readFrom;
    /** With factor > 1: per ring point, the ranked replicas of the keys at that point (shared instances). */
    private final ReplicaSet[] replicasByPoint;
    /** Per node: its open connections for blocking commands, over all event loops. Never resized. */
    private final Map<BackendNode, AtomicInteger> blockingConnections = new ConcurrentHashMap<>();

    public BackendPool(String name, List<BackendNode> nodes, int vnodes, UpstreamSettings settings,
                       boolean adminCommandsPass) {
        this(name, nodes, vnodes, settings, adminCommandsPass, null, false, false, 1, WriteAck.ALL_AVAILABLE,
                ReadFrom.PRIMARY);
    }

    /**
     * A sharded pool whose keys each live on {@code factor} nodes (their {@link ReplicaSet}); every
     * node must carry a {@link NodeHealth} when {@code factor > 1}.
     */
    public static BackendPool sharded(String name, List<BackendNode> nodes, int vnodes, UpstreamSettings settings,
                                      boolean adminCommandsPass, int factor, WriteAck writeAck, ReadFrom readFrom) {
        return new BackendPool(name, nodes, vnodes, settings, adminCommandsPass, null, false, false,
                Math.min(factor, nodes.size()), writeAck, readFrom);
    }

    public BackendPool(String name, List<BackendNode> nodes, int vnodes, UpstreamSettings settings,
                       boolean adminCommandsPass, Supplier<List<BackendNode>> replicas,
                       boolean readFromReplicas, boolean readFromMasterToo) {
        this(name, nodes, vnodes, settings, adminCommandsPass, replicas, readFromReplicas, readFromMasterToo, 1,
                WriteAck.ALL_AVAILABLE, ReadFrom.PRIMARY);
    }

    /**
     * A pool of fixed nodes whose reads may go to replicas that {@code replicas} names (a sentinel
     * pool's), as {@link #readNodeFor} describes.
     */
    private BackendPool(String name, List<BackendNode> nodes, int vnodes, UpstreamSettings settings,
                        boolean adminCommandsPass, Supplier<List<BackendNode>> replicas,
                        boolean readFromReplicas, boolean readFromMasterToo, int factor, WriteAck writeAck,
                        ReadFrom readFrom) {
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
        this.cluster = null;
        this.sentinelReplicas = replicas;
        this.factor = factor;
        this.writeAck = writeAck;
        this.readFrom = readFrom;
        this.replicasByPoint = factor > 1 ? replicaSets(ring, this.nodes, factor) : null;
        this.readFromReplicas = factor > 1 ? readFrom != ReadFrom.PRIMARY : readFromReplicas && replicas != null;
        this.readFromMasterToo = readFromMasterToo;
    }

    /** Per ring point, its keys' replica set; one instance per distinct ranking. */
    private static ReplicaSet[] replicaSets(HashRing ring, List<BackendNode> nodes, int factor) {
        ReplicaSet[] byPoint = new ReplicaSet[ring.points()];
        Map<List<Integer>, ReplicaSet> distinct = new HashMap<>();
        for (int p = 0; p < byPoint.length; p++) {
            int[] ranked = ring.nodesFrom(p, factor);
            byPoint[p] = distinct.computeIfAbsent(Arrays.stream(ranked).boxed().toList(), k -> {
                BackendNode[] set = new BackendNode[ranked.length];
                for (int i = 0; i < ranked.length; i++) {
                    set[i] = nodes.get(ranked[i]);
                }
                return new ReplicaSet(set);
            });
        }
        return byPoint;
    }

    /**
     * A {@code type: cluster} pool: keys go to their slot's master as {@code cluster} knows it;
     * with {@code readFromReplicas}, reads go to the master's replicas in turn (the master when it
     * has none), and with {@code readFromMasterToo} to the master and its replicas in turn.
     */
    public BackendPool(String name, ClusterTopology cluster, UpstreamSettings settings, boolean adminCommandsPass,
                       boolean readFromReplicas, boolean readFromMasterToo) {
        this.name = Objects.requireNonNull(name, "name");
        this.cluster = Objects.requireNonNull(cluster, "cluster");
        this.readFromReplicas = readFromReplicas;
        this.readFromMasterToo = readFromMasterToo;
        this.sentinelReplicas = null;
        this.nodes = null;
        this.ring = null;
        this.factor = 1;
        this.writeAck = WriteAck.ALL_AVAILABLE;
        this.readFrom = ReadFrom.PRIMARY;
        this.replicasByPoint = null;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.adminCommandsPass = adminCommandsPass;
    }

    /** The slot map of a cluster pool, or null. */
    public ClusterTopology cluster() {
        return cluster;
    }

    public String name() {
        return name;
    }

    /** The nodes keys live on; for a cluster pool, its masters now. */
    public List<BackendNode> nodes() {
        return cluster != null ? cluster.slots().masters() : nodes;
    }

    public boolean isSingleNode() {
        return nodes().size() == 1;
    }

    public UpstreamSettings settings() {
        return settings;
    }

    /** {@code admin-commands: pass}: server administration goes to the nodes instead of being refused. */
    public boolean adminCommandsPass() {
        return adminCommandsPass;
    }

    /**
     * The node owning the key {@code buf[offset, offset+length)}. In a replicated pool: the first
     * of its replicas that is trusted, else the first that is live, else its owner.
     */
    public BackendNode nodeFor(ByteBuf buf, int offset, int length) {
        if (cluster != null) {
            BackendNode node = cluster.slots().nodeOf(KeySlot.slot(buf, offset, length));
            return node != null ? node : cluster.slots().masters().get(0);   // the node's MOVED will tell
        }
        if (replicasByPoint != null) {
            return serving(replicasFor(buf, offset, length));
        }
        return nodes.size() == 1 ? nodes.get(0) : nodes.get(ring.nodeFor(buf, offset, length));
    }

    /** The first trusted node of {@code replicas}, else the first live one, else the owner. */
    private static BackendNode serving(ReplicaSet replicas) {
        BackendNode trusted = replicas.firstTrusted();
        if (trusted != null) {
            return trusted;
        }
        for (int i = 0; i < replicas.size(); i++) {
            if (replicas.get(i).health().isLive()) {
                return replicas.get(i);
            }
        }
        return replicas.get(0);
    }

    /** Whether keys live on more than one node ({@code replication.factor} > 1 on a sharded pool). */
    public boolean replicated() {
        return replicasByPoint != null;
    }

    /** {@code replication.factor}, at most the number of nodes; 1 for cluster and sentinel pools. */
    public int factor() {
        return factor;
    }

    public WriteAck writeAck() {
        return writeAck;
    }

    public ReadFrom readFrom() {
        return readFrom;
    }

    /** The ranked replicas of the key {@code buf[offset, offset+length)}; only for a {@link #replicated} pool. */
    public ReplicaSet replicasFor(ByteBuf buf, int offset, int length) {
        return replicasByPoint[ring.pointFor(KeyHash.hash(buf, offset, length))];
    }

    /** The ranked replicas of a key given as bytes; only for a {@link #replicated} pool. */
    public ReplicaSet replicasFor(byte[] key) {
        return replicasByPoint[ring.pointFor(KeyHash.hash(key))];
    }

    /** The distinct replica sets of a {@link #replicated} pool. */
    public List<ReplicaSet> replicaSets() {
        return Arrays.stream(replicasByPoint).distinct().toList();
    }

    /** Whether reads ({@code readonly} commands) go to {@link #readNodeFor} rather than {@link #nodeFor}. */
    public boolean readsFromReplicas() {
        return readFromReplicas;
    }

    /**
     * For a read of the key: a replica of its slot's master, in turn (with {@code read-from: any}
     * the master takes a turn too); the master when it has no replica.
     */
    public BackendNode readNodeFor(ByteBuf buf, int offset, int length) {
        if (replicasByPoint != null) {
            ReplicaSet replicas = replicasFor(buf, offset, length);
            BackendNode node = replicas.trustedInTurn(nextReplica.getAndIncrement(), readFrom == ReadFrom.REPLICA);
            return node != null ? node : serving(replicas);
        }
        BackendNode master = nodeFor(buf, offset, length);
        List<BackendNode> replicas = cluster != null ? cluster.slots().replicasOf(master) : sentinelReplicas.get();
        int choices = replicas.size() + (readFromMasterToo ? 1 : 0);
        if (replicas.isEmpty()) {
            return master;
        }
        int pick = Math.floorMod(nextReplica.getAndIncrement(), choices);
        return pick < replicas.size() ? replicas.get(pick) : master;
    }

    /**
     * Where subscriptions to the shard channel {@code buf[offset, offset+length)} live, and where
     * SPUBLISH to it goes: in a cluster pool the channel's slot master, as Redis Cluster requires;
     * otherwise the first node, where every subscription of the proxy meets.
     */
    public BackendNode shardChannelNode(ByteBuf buf, int offset, int length) {
        return cluster != null ? nodeFor(buf, offset, length) : nodes().get(0);
    }

    /** For a cluster pool, the key's slot (keys of one request must share it); -1 for the others. */
    public int slotFor(ByteBuf buf, int offset, int length) {
        return cluster != null ? KeySlot.slot(buf, offset, length) : -1;
    }

    /**
     * Counts one more connection for blocking commands to {@code node}, unless it already has
     * {@link UpstreamSettings#blockingConnections()}; returns whether it did. Safe from any thread.
     */
    boolean tryOpenBlockingConnection(BackendNode node) {
        AtomicInteger open = blockingConnections.computeIfAbsent(node, n -> new AtomicInteger());
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
