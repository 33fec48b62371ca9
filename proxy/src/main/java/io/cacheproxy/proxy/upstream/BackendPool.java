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
    /** The nodes and ring of a sharded or sentinel pool; replaced by a topology change. Null for a cluster pool. */
    private volatile Layout layout;
    /** While a topology change migrates keys: the layout they still live by, and the one they move to. */
    private volatile Migration migration;
    private final int vnodes;
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
    /** {@code replication.factor} as configured (a layout's is at most its node count). */
    private final int configuredFactor;
    private final WriteAck writeAck;
    private final ReadFrom readFrom;
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
        this.vnodes = vnodes;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.adminCommandsPass = adminCommandsPass;
        for (BackendNode node : nodes) {
            blockingConnections.put(node, new AtomicInteger());
        }
        this.cluster = null;
        this.sentinelReplicas = replicas;
        this.configuredFactor = factor;
        this.writeAck = writeAck;
        this.readFrom = readFrom;
        this.layout = Layout.of(nodes, vnodes, factor);
        this.readFromReplicas = readFromReplicas && replicas != null;   // a replicated pool picks its reads in PoolReplication
        this.readFromMasterToo = readFromMasterToo;
    }

    /**
     * The nodes of a pool and where keys go among them: the ring, and per ring point the ranked
     * replicas of its keys (one shared {@link ReplicaSet} per distinct ranking). Immutable.
     */
    private record Layout(List<BackendNode> nodes, HashRing ring, ReplicaSet[] byPoint, int factor) {
        static Layout of(List<BackendNode> nodes, int vnodes, int factor) {
            List<BackendNode> copy = List.copyOf(nodes);
            HashRing ring = new HashRing(copy.stream().map(BackendNode::name).toList(), vnodes);
            int f = Math.min(factor, copy.size());
            ReplicaSet[] byPoint = new ReplicaSet[ring.points()];
            Map<List<Integer>, ReplicaSet> distinct = new HashMap<>();
            for (int p = 0; p < byPoint.length; p++) {
                int[] ranked = ring.nodesFrom(p, f);
                byPoint[p] = distinct.computeIfAbsent(Arrays.stream(ranked).boxed().toList(), k -> {
                    BackendNode[] set = new BackendNode[ranked.length];
                    for (int i = 0; i < ranked.length; i++) {
                        set[i] = copy.get(ranked[i]);
                    }
                    return new ReplicaSet(set, set.length);
                });
            }
            return new Layout(copy, ring, byPoint, f);
        }

        ReplicaSet setFor(int hash) {
            return byPoint[ring.pointFor(hash)];
        }
    }

    /**
     * A topology change under way: keys live by {@code from} until every key that moves has been
     * copied, then by {@code to}. A key whose replicas differ gets a transitional set: its old
     * replicas in their order (they answer its reads and writes), then its new ones, which receive
     * its writes so that they converge.
     */
    private record Migration(Layout from, Layout to, Map<List<ReplicaSet>, ReplicaSet> transitional) {
        ReplicaSet setFor(int hash) {
            ReplicaSet old = from.setFor(hash);
            ReplicaSet next = to.setFor(hash);
            if (old.nodes().equals(next.nodes())) {
                return old;
            }
            return transitional.computeIfAbsent(List.of(old, next), k -> {
                List<BackendNode> union = new ArrayList<>(old.nodes());
                for (BackendNode n : next.nodes()) {
                    if (!union.contains(n)) {
                        union.add(n);
                    }
                }
                return new ReplicaSet(union.toArray(BackendNode[]::new), old.size());
            });
        }
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
        this.layout = null;
        this.vnodes = 0;
        this.configuredFactor = 1;
        this.writeAck = WriteAck.ALL_AVAILABLE;
        this.readFrom = ReadFrom.PRIMARY;
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

    /**
     * The nodes keys live on; for a cluster pool, its masters now; during a topology change, the
     * old nodes and the new ones.
     */
    public List<BackendNode> nodes() {
        if (cluster != null) {
            return cluster.slots().masters();
        }
        Migration m = migration;
        if (m == null) {
            return layout.nodes();
        }
        List<BackendNode> union = new ArrayList<>(m.from().nodes());
        for (BackendNode n : m.to().nodes()) {
            if (!union.contains(n)) {
                union.add(n);
            }
        }
        return union;
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
        if (replicated()) {
            return serving(replicasFor(buf, offset, length));
        }
        Layout l = layout;
        return l.nodes().size() == 1 ? l.nodes().get(0) : l.nodes().get(l.ring().nodeFor(buf, offset, length));
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

    /**
     * Whether keyed commands go through the pool's replication: keys live on more than one node
     * ({@code replication.factor} > 1), or a topology change is moving them.
     */
    public boolean replicated() {
        return migration != null || layout != null && layout.factor() > 1;
    }

    /** Whether a topology change is moving keys now. */
    public boolean migrating() {
        return migration != null;
    }

    /** {@code replication.factor}, at most the number of nodes; 1 for cluster and sentinel pools. */
    public int factor() {
        return layout == null ? 1 : layout.factor();
    }

    /**
     * Starts a topology change to {@code nodes} (each carrying a {@link NodeHealth}): from now on
     * keys whose replicas change are read from their old replicas and written to old and new ones,
     * until {@link #finishMigration}. Returns false, and changes nothing, when one is under way.
     */
    public synchronized boolean startMigration(List<BackendNode> nodes) {
        if (migration != null || layout == null) {
            return false;
        }
        for (BackendNode node : nodes) {
            blockingConnections.computeIfAbsent(node, n -> new AtomicInteger());
        }
        migration = new Migration(layout, Layout.of(nodes, vnodes, configuredFactor), new ConcurrentHashMap<>());
        return true;
    }

    /** The nodes a topology change under way moves keys to; null when none is. */
    public List<BackendNode> migratingTo() {
        Migration m = migration;
        return m == null ? null : m.to().nodes();
    }

    /** The nodes keys lived on before the change under way; null when none is. */
    public List<BackendNode> migratingFrom() {
        Migration m = migration;
        return m == null ? null : m.from().nodes();
    }

    /** The old replicas of {@code key} during a topology change (its sources); null when none is under way. */
    public ReplicaSet previousReplicasFor(byte[] key) {
        Migration m = migration;
        return m == null ? null : m.from().setFor(KeyHash.hash(key));
    }

    /** The new replicas of {@code key} during a topology change; its replicas otherwise. */
    public ReplicaSet nextReplicasFor(byte[] key) {
        Migration m = migration;
        return m == null ? layout.setFor(KeyHash.hash(key)) : m.to().setFor(KeyHash.hash(key));
    }

    /** Every key that moved has been copied: the pool lives by the new layout from now on. */
    public synchronized void finishMigration() {
        Migration m = migration;
        if (m != null) {
            layout = m.to();
            migration = null;
        }
    }

    public WriteAck writeAck() {
        return writeAck;
    }

    public ReadFrom readFrom() {
        return readFrom;
    }

    /** The ranked replicas of the key {@code buf[offset, offset+length)}; only for a {@link #replicated} pool. */
    public ReplicaSet replicasFor(ByteBuf buf, int offset, int length) {
        return setFor(KeyHash.hash(buf, offset, length));
    }

    private ReplicaSet setFor(int hash) {
        Migration m = migration;
        return m != null ? m.setFor(hash) : layout.setFor(hash);
    }

    /** The ranked replicas of a key given as bytes; only for a {@link #replicated} pool. */
    public ReplicaSet replicasFor(byte[] key) {
        return setFor(KeyHash.hash(key));
    }

    /** The distinct replica sets of the pool's layout (the old one during a topology change). */
    public List<ReplicaSet> replicaSets() {
        return Arrays.stream(layout.byPoint()).distinct().toList();
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
