package io.cacheproxy.proxy.metrics;

import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy's meters, registered once at start-up in a Prometheus registry that
 * {@code GET /metrics} scrapes. Names are part of the product contract (shared/SPEC.md §3):
 * {@code cacheproxy_commands_total{command,result}}, {@code cacheproxy_command_seconds},
 * {@code cacheproxy_client_connections}, {@code cacheproxy_backend_up{pool,node}},
 * {@code cacheproxy_backend_errors_total{pool,node}}, plus JVM metrics.
 *
 * <p>Hot-path cost: one map lookup (cached per command name) and two adder increments per command.
 * Thread-safe.
 */
public final class ProxyMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final CommandMetricsCollector commandMetrics;
    private final int unknownCommandId;
    private final AtomicInteger clientConnections = new AtomicInteger();
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();

    /** Upper bounds, in nanoseconds, of the {@code cacheproxy_command_seconds} histogram buckets. */
    static final long[] LATENCY_BUCKETS_NANOS = {
        50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
        50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000L, 5_000_000_000L,
        10_000_000_000L};

    /**
     * @param commandNames names of the commands by id ({@code CommandSpec.id()}); the ids after
     *                     them stand for unknown commands and protocol errors
     */
    public ProxyMetrics(List<String> commandNames) {
        // Commands are counted per event loop in plain arrays and summed at scrape time: a Micrometer
        // Counter and Timer per command measured at ~15% of the proxy's CPU.
        List<String> names = new ArrayList<>(commandNames);
        unknownCommandId = names.size();
        names.add("unknown");
        names.add("protocol_error");
        commandMetrics = new CommandMetricsCollector(names, LATENCY_BUCKETS_NANOS);
        registry.getPrometheusRegistry().register(commandMetrics);
        Gauge.builder("cacheproxy.client.connections", clientConnections, AtomicInteger::get)
                .description("Open client connections")
                .register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /**
     * Registers the backend meters of every node of {@code pool}; for a cluster pool, also of each
     * master it learns later (a failover, a reshard to a new node), when it learns it.
     */
    public void registerPool(BackendPool pool) {
        if (pool.cluster() != null) {
            pool.cluster().onMaster(this::registerBackend);
        } else {
            pool.nodes().forEach(this::registerBackend);
        }
    }

    /**
     * Registers {@code cacheproxy_backend_up} and {@code cacheproxy_backend_errors_total} for a node.
     * Idempotent: for a node (pool and address) registered already, Micrometer returns the meters it
     * has, which read the first {@link BackendNode} object given for that address (a cluster pool has
     * one per address).
     */
    public void registerBackend(BackendNode node) {
        Gauge.builder("cacheproxy.backend.up", node, n -> n.isUp() ? 1 : 0)
                .description("1 while the node is reachable")
                .tags("pool", node.pool(), "node", node.name())
                .register(registry);
        FunctionCounter.builder("cacheproxy.backend.errors", node, BackendNode::errorCount)
                .description("Connect failures, timeouts and connection errors of a node")
                .tags("pool", node.pool(), "node", node.name())
                .register(registry);
    }

    /**
     * The meters of a replicated pool: per node {@code cacheproxy_node_ejected},
     * {@code cacheproxy_node_trusted} and {@code cacheproxy_node_ejections_total}; per pool
     * {@code cacheproxy_repairs_total} and {@code cacheproxy_repair_keys_total{action=copied|deleted}}.
     * The breakers' own meters ({@code resilience4j_circuitbreaker_*}) are bound with their registry.
     */
    public void registerReplication(io.cacheproxy.proxy.replication.PoolReplication replication) {
        BackendPool pool = replication.pool();
        pool.nodes().forEach(this::registerNodeHealth);
        var repairs = replication.repairs();
        FunctionCounter.builder("cacheproxy.repairs", repairs, r -> r.completed())
                .description("Node repairs that made their node trusted again")
                .tags("pool", pool.name())
                .register(registry);
        FunctionCounter.builder("cacheproxy.repair.keys", repairs, r -> r.keysCopied())
                .description("Keys a repair copied to, or deleted from, a node that came back")
                .tags("pool", pool.name(), "action", "copied")
                .register(registry);
        FunctionCounter.builder("cacheproxy.repair.keys", repairs, r -> r.keysDeleted())
                .description("Keys a repair copied to, or deleted from, a node that came back")
                .tags("pool", pool.name(), "action", "deleted")
                .register(registry);
        Gauge.builder("cacheproxy.pool.migrating", pool, p -> p.migrating() ? 1 : 0)
                .description("1 while a topology change of the pool is copying keys to their new nodes")
                .tags("pool", pool.name())
                .register(registry);
        FunctionCounter.builder("cacheproxy.migration.keys", repairs, r -> r.migratedKeys())
                .description("Keys the pool's current or last topology change copied to their new nodes")
                .tags("pool", pool.name())
                .register(registry);
    }

    /**
     * {@code cacheproxy_node_ejected}, {@code cacheproxy_node_trusted} and
     * {@code cacheproxy_node_ejections_total} of a node of a sharded pool (from start, or added later).
     */
    public void registerNodeHealth(BackendNode node) {
        Gauge.builder("cacheproxy.node.ejected", node, n -> n.health().circuitOpen() ? 1 : 0)
                .description("1 while the node's circuit breaker is open: a replicated pool's node is ejected")
                .tags("pool", node.pool(), "node", node.name())
                .register(registry);
        Gauge.builder("cacheproxy.node.trusted", node, n -> n.health().isTrusted() ? 1 : 0)
                .description("1 while the node serves reads: live, and repaired since it last lost trust")
                .tags("pool", node.pool(), "node", node.name())
                .register(registry);
        FunctionCounter.builder("cacheproxy.node.ejections", node, n -> n.health().ejections())
                .description("Times the node's circuit breaker opened")
                .tags("pool", node.pool(), "node", node.name())
                .register(registry);
    }

    /** Per-loop command statistics for a new event loop; only that loop may record into it. */
    public CommandStats newLoopStats() {
        CommandStats stats = new CommandStats(unknownCommandId + 2, LATENCY_BUCKETS_NANOS);
        commandMetrics.add(stats);
        return stats;
    }

    /** The id counting commands the command table does not know. */
    public int unknownCommandId() {
        return unknownCommandId;
    }

    /** The id counting protocol errors. */
    public int protocolErrorId() {
        return unknownCommandId + 1;
    }

    public void clientConnected() {
        clientConnections.incrementAndGet();
    }

    public void clientDisconnected() {
        clientConnections.decrementAndGet();
    }

    public int clientConnections() {
        return clientConnections.get();
    }

    /** The registry, for components that register their own meters (L1). */
    public io.micrometer.core.instrument.MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
