package io.cacheproxy.proxy;

import io.cacheproxy.proxy.l1.CacheableReads;
import io.cacheproxy.proxy.l1.NearCache;
import io.cacheproxy.proxy.metrics.ProxyMetrics;
import io.cacheproxy.proxy.tracking.ClientTracking;
import io.cacheproxy.proxy.server.ModuleCommands;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.PoolNode;
import io.cacheproxy.resp.RespLimits;
import io.cacheproxy.routing.CommandTable;
import io.cacheproxy.routing.RouteTable;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every client connection shares: the command table, the routes to pools, the metrics, the
 * users, the limits, and the per-event-loop {@link LoopContext}s. Thread-safe: fields are immutable
 * or concurrent.
 */
public final class ProxyContext {
    private final CommandTable commands;
    private final RouteTable<BackendPool> routes;
    private final ProxyMetrics metrics;
    private final Map<String, String> passwordsByUser;
    private final RespLimits requestLimits;
    private final long clientOutputBufferLimit;
    private final int maxClients;
    private final Transport transport;
    private volatile List<PoolNode> allNodes;
    private final AtomicLong clientIds = new AtomicLong();
    private final ModuleCommands moduleCommands = new ModuleCommands();
    private final ConcurrentHashMap<EventLoop, LoopContext> loops = new ConcurrentHashMap<>();
    private final NearCache nearCache;
    private final ClientTracking clientTracking = new ClientTracking();
    private final CacheableReads cacheableReads;
    /** {@code invalidation.broadcast.channel}, or null when broadcast is off or L1 is. */
    private final String broadcastChannel;
    /** This proxy's id in broadcast messages, so it ignores its own. */
    private final byte[] proxyId;
    private volatile boolean shuttingDown;
    private volatile TopologyChanges topology;
    /** The replicated pools' replication; set once before clients connect. */
    private volatile Map<BackendPool, io.cacheproxy.proxy.replication.PoolReplication> replications = Map.of();

    public ProxyContext(CommandTable commands, RouteTable<BackendPool> routes, ProxyMetrics metrics,
                        Map<String, String> passwordsByUser, RespLimits requestLimits,
                        long clientOutputBufferLimit, int maxClients, Transport transport,
                        NearCache nearCache, String broadcastChannel, byte[] proxyId) {
        this.nearCache = nearCache;
        nearCache.changeListener(new NearCache.ChangeListener() {
            @Override
            public void keyChanged(io.cacheproxy.proxy.l1.CacheKey key) {
                clientTracking.keyChanged(key);
            }

            @Override
            public void allChanged() {
                clientTracking.allChanged();
            }

            @Override
            public void flushing(int nodes) {
                clientTracking.flushing(nodes);
            }
        });
        this.cacheableReads = new CacheableReads(commands);
        this.broadcastChannel = nearCache.enabled() ? broadcastChannel : null;
        this.proxyId = proxyId.clone();
        this.commands = commands;
        this.routes = routes;
        this.metrics = metrics;
        this.passwordsByUser = Map.copyOf(passwordsByUser);
        this.requestLimits = requestLimits;
        this.clientOutputBufferLimit = clientOutputBufferLimit;
        this.maxClients = maxClients;
        this.transport = transport;
        refreshNodes();
    }

    /** Every node of every routed pool, once each, in route order then node order. */
    public List<PoolNode> allNodes() {
        return allNodes;
    }

    /** Reads the pools' nodes again, after a topology change started or finished. */
    public synchronized void refreshNodes() {
        List<PoolNode> nodes = new ArrayList<>();
        for (BackendPool pool : routes.targets()) {
            for (BackendNode node : pool.nodes()) {
                if (nodes.stream().noneMatch(n -> n.node() == node)) {
                    nodes.add(new PoolNode(pool, node));
                }
            }
        }
        this.allNodes = List.copyOf(nodes);
    }

    /** Run-time changes to the sharded pools' nodes; null until the server has started. */
    public TopologyChanges topology() {
        return topology;
    }

    public void topology(TopologyChanges topology) {
        this.topology = topology;
    }

    public CommandTable commands() {
        return commands;
    }

    /** Commands the table lacks, as the backends' COMMAND INFO described them. */
    public ModuleCommands moduleCommands() {
        return moduleCommands;
    }

    /** L1, the near cache (which may be disabled: {@link NearCache#enabled()}). */
    /** Sets the replicated pools' replication, before any client connects. */
    public void replications(Map<BackendPool, io.cacheproxy.proxy.replication.PoolReplication> replications) {
        this.replications = new java.util.IdentityHashMap<>(replications);
    }

    /** The replication of a {@link BackendPool#replicated} pool; null for the others. */
    public io.cacheproxy.proxy.replication.PoolReplication replication(BackendPool pool) {
        return replications.get(pool);
    }

    public NearCache nearCache() {
        return nearCache;
    }

    /** Client-side caching through the proxy: who is told of which key's change. */
    public ClientTracking clientTracking() {
        return clientTracking;
    }

    public CacheableReads cacheableReads() {
        return cacheableReads;
    }

    public RouteTable<BackendPool> routes() {
        return routes;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public RespLimits requestLimits() {
        return requestLimits;
    }

    public long clientOutputBufferLimit() {
        return clientOutputBufferLimit;
    }

    public int maxClients() {
        return maxClients;
    }

    /** True when {@code auth.users} is configured: clients must AUTH (or HELLO … AUTH) first. */
    public boolean authRequired() {
        return !passwordsByUser.isEmpty();
    }

    /** True when {@code user} exists with {@code password}. Compares in constant time. */
    public boolean checkPassword(String user, String password) {
        String expected = passwordsByUser.get(user);
        return expected != null && java.security.MessageDigest.isEqual(
                expected.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                password.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public long nextClientId() {
        return clientIds.incrementAndGet();
    }

    /** The loop context of {@code loop}, created on first use. */
    public LoopContext loop(EventLoop loop) {
        return loops.computeIfAbsent(loop, l -> new LoopContext(l, transport, metrics.newLoopStats(),
                broadcastChannel, proxyId, this::poolOf));
    }

    /**
     * A pool that holds {@code node}, whose settings its connections use; for a node that has left
     * its pool (a write begun before a topology change ends after it), the pool it was in.
     */
    public BackendPool poolOf(BackendNode node) {
        for (PoolNode n : allNodes) {
            if (n.node() == node) {
                return n.pool();
            }
        }
        for (BackendPool pool : routes.targets()) {
            if (pool.name().equals(node.pool())) {
                return pool;
            }
        }
        throw new IllegalArgumentException("not a node of this proxy: " + node);
    }


    public Iterable<LoopContext> loops() {
        return loops.values();
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    public void beginShutdown() {
        shuttingDown = true;
    }

    /**
     * The Redis version the proxy reports in HELLO: the lowest version its backends reported (a
     * client must not use a feature some node lacks), or 7.0.0 before any handshake.
     */
    public String serverVersion() {
        String lowest = null;
        for (BackendPool pool : routes.targets()) {
            for (BackendNode node : pool.nodes()) {
                String v = node.serverVersion();
                if (v != null && (lowest == null || compareVersions(v, lowest) < 0)) {
                    lowest = v;
                }
            }
        }
        return lowest == null ? "7.0.0" : lowest;
    }

    static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(part(x, i), part(y, i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int part(String[] parts, int i) {
        try {
            return i < parts.length ? Integer.parseInt(parts[i]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
