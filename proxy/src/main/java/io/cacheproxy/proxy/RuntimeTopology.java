package io.cacheproxy.proxy;

import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.config.PoolConfig;
import io.cacheproxy.config.PoolType;
import io.cacheproxy.config.ProxyConfig;
import io.cacheproxy.proxy.metrics.ProxyMetrics;
import io.cacheproxy.proxy.replication.PoolReplication;
import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.HealthChecker;
import io.cacheproxy.proxy.upstream.NodeHealth;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy's {@link TopologyChanges}: adds and removes nodes of sharded pools. A change
 * builds the new node list, gives each new node what the pool's nodes have (health and its
 * circuit breaker, probes, meters, repair, L1's reaction to it), starts the pool's migration
 * ({@link BackendPool#startMigration}), and lets the pool's repair thread copy the keys that move
 * ({@link io.cacheproxy.proxy.replication.RepairCoordinator#migrate}); when it switches, nodes that
 * left stop being probed and every event loop closes its connections to them (in-flight commands
 * have had one command timeout to finish), and L1 drops what it held of the old nodes.
 */
final class RuntimeTopology implements TopologyChanges {
    private static final Logger log = LoggerFactory.getLogger(RuntimeTopology.class);

    private final ProxyContext context;
    private final ProxyConfig started;
    private final Map<String, BackendPool> pools;
    private final Map<BackendPool, PoolReplication> replications;
    private final CircuitBreakerRegistry breakers;
    private final HealthChecker health;
    private final ProxyMetrics metrics;

    RuntimeTopology(ProxyContext context, ProxyConfig started, Map<String, BackendPool> pools,
                    Map<BackendPool, PoolReplication> replications, CircuitBreakerRegistry breakers,
                    HealthChecker health, ProxyMetrics metrics) {
        this.context = context;
        this.started = started;
        this.pools = Map.copyOf(pools);
        this.replications = replications;
        this.breakers = breakers;
        this.health = health;
        this.metrics = metrics;
    }

    @Override
    public synchronized String addNode(String pool, HostAndPort node) {
        BackendPool p = shardedPool(pool);
        List<BackendNode> now = p.nodes();
        if (find(now, node) != null) {
            throw new IllegalArgumentException("pool " + pool + " already has node " + node);
        }
        List<BackendNode> next = new ArrayList<>(now);
        next.add(newNode(p, node));
        return change(p, next);
    }

    @Override
    public synchronized String removeNode(String pool, HostAndPort node) {
        BackendPool p = shardedPool(pool);
        List<BackendNode> now = p.nodes();
        BackendNode leaving = find(now, node);
        if (leaving == null) {
            throw new IllegalArgumentException("pool " + pool + " has no node " + node + " (nodes: " + names(now) + ")");
        }
        List<BackendNode> next = new ArrayList<>(now);
        next.remove(leaving);
        return change(p, next);
    }

    @Override
    public synchronized List<String> reload(ProxyConfig config) {
        List<String> lines = new ArrayList<>();
        for (String section : List.of("server", "admin", "auth", "routes", "l1", "invalidation")) {
            if (!Objects.equals(component(config, section), component(started, section))) {
                lines.add("not applied (needs a restart): " + section);
            }
        }
        List<Runnable> changes = new ArrayList<>();
        for (PoolConfig wanted : config.pools().values()) {
            PoolConfig was = started.pools().get(wanted.name());
            BackendPool pool = pools.get(wanted.name());
            if (was == null || pool == null) {
                lines.add("not applied (needs a restart): pool " + wanted.name() + " added");
                continue;
            }
            for (String difference : differences(was, wanted)) {
                lines.add("not applied (needs a restart): pools." + wanted.name() + "." + difference);
            }
            if (wanted.type() != PoolType.SHARDED || was.type() != PoolType.SHARDED) {
                continue;
            }
            List<BackendNode> now = pool.nodes();
            List<String> wantedNames = wanted.nodes().stream().map(HostAndPort::toString).toList();
            if (wantedNames.equals(names(now))) {
                continue;
            }
            if (pool.migrating()) {
                throw new IllegalArgumentException("pool " + wanted.name() + " is still moving keys for an earlier change");
            }
            changes.add(() -> {
                List<BackendNode> next = new ArrayList<>();
                for (HostAndPort address : wanted.nodes()) {
                    BackendNode existing = find(now, address);
                    next.add(existing != null ? existing : newNode(pool, address));
                }
                lines.add(change(pool, next));
            });
        }
        for (String name : started.pools().keySet()) {
            if (!config.pools().containsKey(name)) {
                lines.add("not applied (needs a restart): pool " + name + " removed");
            }
        }
        changes.forEach(Runnable::run);
        return lines;
    }

    @Override
    public List<String> migrations() {
        List<String> lines = new ArrayList<>();
        for (BackendPool pool : pools.values()) {
            if (pool.migrating()) {
                lines.add("pool " + pool.name() + ": moving keys from " + names(pool.migratingFrom()) + " to "
                        + names(pool.migratingTo()) + ", " + replications.get(pool).repairs().migratedKeys()
                        + " keys copied so far");
            }
        }
        return lines;
    }

    private BackendPool shardedPool(String name) {
        PoolConfig config = started.pools().get(name);
        BackendPool pool = pools.get(name);
        if (config == null || pool == null) {
            throw new IllegalArgumentException("no pool " + name + " (pools: " + String.join(", ", pools.keySet()) + ")");
        }
        if (config.type() != PoolType.SHARDED) {
            throw new IllegalArgumentException("pool " + name + " is of type " + config.type().configName()
                    + ": only sharded pools change nodes through the proxy");
        }
        if (pool.migrating()) {
            throw new IllegalArgumentException("pool " + name + " is still moving keys for an earlier change "
                    + "(GET /nodes shows its progress)");
        }
        return pool;
    }

    /** A node for {@code pool} with the same health settings as the nodes it started with. */
    private BackendNode newNode(BackendPool pool, HostAndPort address) {
        PoolConfig config = started.pools().get(pool.name());
        BackendNode node = new BackendNode(pool.name(), address.host(), address.port());
        node.health(new NodeHealth(node, breakers, config.health().interval(), config.health().failuresToEject(),
                config.replication().factor() > 1));
        return node;
    }

    private String change(BackendPool pool, List<BackendNode> next) {
        int factor = started.pools().get(pool.name()).replication().factor();
        if (next.size() < factor) {
            throw new IllegalArgumentException("pool " + pool.name() + " would have " + next.size()
                    + " node(s), fewer than its replication.factor " + factor);
        }
        List<BackendNode> now = pool.nodes();
        List<BackendNode> added = next.stream().filter(n -> !now.contains(n)).toList();
        List<BackendNode> removed = now.stream().filter(n -> !next.contains(n)).toList();
        PoolReplication replication = replications.get(pool);
        int failuresToEject = started.pools().get(pool.name()).health().failuresToEject();
        if (!pool.startMigration(next)) {
            throw new IllegalArgumentException("pool " + pool.name() + " is still moving keys for an earlier change");
        }
        for (BackendNode node : added) {
            metrics.registerBackend(node);
            metrics.registerNodeHealth(node);
            node.health().addListener(change -> ProxyServer.dropFromL1(context, node, change));
            replication.repairs().watch(node);
            health.watch(pool, node, failuresToEject);
        }
        context.refreshNodes();
        String what = "pool " + pool.name() + ": " + describe(added, removed) + "; moving keys (GET /nodes shows progress)";
        log.info("{}", what);
        replication.repairs().migrate(() -> switched(pool, now, removed));
        return what;
    }

    /** Runs on the pool's repair thread once the pool lives by its new nodes. */
    private void switched(BackendPool pool, List<BackendNode> before, List<BackendNode> removed) {
        context.refreshNodes();
        before.forEach(context.nearCache()::dropNode);
        for (BackendNode node : removed) {
            health.unwatch(node);
            for (LoopContext loop : context.loops()) {
                loop.loop().schedule(() -> loop.closeShared(node), pool.settings().commandTimeout().toMillis(),
                        java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            log.info("pool {}, node {}: left the pool", pool.name(), node.name());
        }
    }

    private static String describe(List<BackendNode> added, List<BackendNode> removed) {
        List<String> parts = new ArrayList<>();
        if (!added.isEmpty()) {
            parts.add("adding " + String.join(", ", names(added)));
        }
        if (!removed.isEmpty()) {
            parts.add("removing " + String.join(", ", names(removed)));
        }
        return String.join(", ", parts);
    }

    private static BackendNode find(List<BackendNode> nodes, HostAndPort address) {
        for (BackendNode node : nodes) {
            if (node.name().equals(address.toString())) {
                return node;
            }
        }
        return null;
    }

    private static List<String> names(List<BackendNode> nodes) {
        return nodes.stream().map(BackendNode::name).toList();
    }

    /** The settings of a pool other than its nodes that differ, by their record component names. */
    private static List<String> differences(PoolConfig was, PoolConfig wanted) {
        List<String> differ = new ArrayList<>();
        for (RecordComponent c : PoolConfig.class.getRecordComponents()) {
            if (!c.getName().equals("nodes") && !Objects.equals(component(was, c.getName()), component(wanted, c.getName()))) {
                differ.add(c.getName());
            }
        }
        return differ;
    }

    private static Object component(Record record, String name) {
        for (RecordComponent c : record.getClass().getRecordComponents()) {
            if (c.getName().equals(name)) {
                try {
                    return c.getAccessor().invoke(record);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        throw new IllegalArgumentException("no component " + name + " in " + record.getClass().getSimpleName());
    }
}
