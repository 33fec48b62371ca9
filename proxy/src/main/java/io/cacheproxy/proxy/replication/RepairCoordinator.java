package io.cacheproxy.proxy.replication;

import io.cacheproxy.proxy.upstream.BackendNode;
import io.cacheproxy.proxy.upstream.BackendPool;
import io.cacheproxy.proxy.upstream.NodeHealth;
import io.cacheproxy.proxy.upstream.ReplicaSet;
import io.lettuce.core.RedisClient;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Repairs the nodes of one replicated pool that are live but not trusted (they came back after an
 * ejection, or a connection to them or a write on them failed): one {@link NodeRepair} at a time,
 * on a thread of its own ({@code cacheproxy-repair-POOL}) with a Lettuce client of its own, off
 * the data path. A repair that completes makes the node trusted again unless it lost trust
 * meanwhile; one that does not is run again a second later. Keys clients touch while their
 * replica is under repair are handed to the running repair first ({@link #repairSoon}).
 *
 * <p>Before each repair the coordinator waits one command timeout, so that a node that was frozen
 * (SIGSTOP) has run the commands it had buffered from connections closed on it.
 */
public final class RepairCoordinator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RepairCoordinator.class);
    private static final int BATCH = 1000;

    private final BackendPool pool;
    private final StripedWriteFence fence;
    private final ScheduledExecutorService thread;
    private volatile ClientResources resources;
    private volatile RedisClient client;
    private final Map<BackendNode, NodeRepair> running = new ConcurrentHashMap<>();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong copied = new AtomicLong();
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong migratedKeys = new AtomicLong();
    private static final int MIGRATION_ATTEMPTS = 5;
    private volatile NodeRepair.Result last;
    private volatile boolean closed;

    RepairCoordinator(BackendPool pool, StripedWriteFence fence) {
        this.pool = pool;
        this.fence = fence;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cacheproxy-repair-" + pool.name());
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        for (BackendNode node : pool.nodes()) {
            watch(node);
        }
        thread.scheduleWithFixedDelay(this::repairAll, 1, 1, TimeUnit.SECONDS);
    }

    /** Repairs {@code node} (of the pool from start, or added since) when it needs it. */
    public void watch(BackendNode node) {
        node.health().addListener(change -> {
            switch (change) {
                case LIVE, DISTRUSTED -> wake();
                case EJECTED -> {
                    NodeRepair repair = running.get(node);
                    if (repair != null) {
                        repair.cancel();
                    }
                }
                default -> { }
            }
        });
    }


    /**
     * Runs the pool's topology change ({@link BackendPool#startMigration}) on the repair thread:
     * waits one command timeout (writes sent by the old ring alone have ended), copies to each node
     * of the new layout the keys it gains, from their old replicas, until every copy stands (a key
     * with no live source is given up after {@value #MIGRATION_ATTEMPTS} attempts), then switches
     * the pool to the new layout and runs {@code switched}.
     */
    public void migrate(Runnable switched) {
        thread.execute(() -> {
            long started = System.nanoTime();
            List<BackendNode> from = pool.migratingFrom();
            List<BackendNode> to = pool.migratingTo();
            if (from == null) {
                return;
            }
            List<BackendNode> all = pool.nodes();
            sleep(pool.settings().commandTimeout().plusMillis(50));
            migratedKeys.set(0);
            for (int attempt = 1; !closed; attempt++) {
                long failed = 0;
                for (BackendNode target : to) {
                    NodeRepair copy = new NodeRepair(pool.name(), target, all, key -> pool.nextReplicasFor(key).nodes(),
                            n -> n.health().isTrusted(), fence, client(), pool.settings().commandTimeout(), BATCH)
                            .migratingFrom(key -> pool.previousReplicasFor(key).nodes());
                    NodeRepair.Result result = copy.run();
                    migratedKeys.addAndGet(result.copied());
                    failed += result.failed();
                }
                if (failed == 0) {
                    break;
                }
                if (attempt >= MIGRATION_ATTEMPTS) {
                    log.warn("pool {}: {} keys could not be copied to their new nodes after {} attempts (no live "
                            + "source?); switching to the new nodes anyway", pool.name(), failed, attempt);
                    break;
                }
                sleep(Duration.ofSeconds(1));
            }
            if (closed) {
                return;
            }
            pool.finishMigration();
            log.info("pool {}: now on nodes {} ({} keys copied in {} ms)", pool.name(),
                    to.stream().map(BackendNode::name).toList(), migratedKeys.get(),
                    (System.nanoTime() - started) / 1_000_000);
            switched.run();
        });
    }

    /** Keys the topology change under way (or the last one) has copied. */
    public long migratedKeys() {
        return migratedKeys.get();
    }

    private void wake() {
        if (!closed) {
            try {
                thread.execute(this::repairAll);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    /** Runs on the repair thread: repairs, one after the other, each node that needs it. */
    private void repairAll() {
        for (BackendNode node : pool.nodes()) {
            if (closed) {
                return;
            }
            if (node.health().needsRepair()) {
                try {
                    repair(node);
                } catch (RuntimeException e) {
                    log.warn("pool {}, node {}: repair failed: {}", pool.name(), node.name(), e.toString());
                }
            }
        }
    }

    private void repair(BackendNode node) {
        NodeHealth health = node.health();
        int epoch = health.distrustEpoch();
        // Wait one command timeout: a node that was frozen has run what it had buffered from
        // connections that were closed on it, which could otherwise land after a copy.
        sleep(pool.settings().commandTimeout().plusMillis(50));
        if (!health.needsRepair() || closed) {
            return;
        }
        NodeRepair repair = new NodeRepair(pool.name(), node, pool.nodes(), key -> pool.replicasFor(key).nodes(),
                n -> n.health().isTrusted(), fence, client(), pool.settings().commandTimeout(), BATCH);
        running.put(node, repair);
        NodeRepair.Result result;
        try {
            result = repair.run();
        } finally {
            running.remove(node);
        }
        last = result;
        copied.addAndGet(result.copied());
        deleted.addAndGet(result.deleted());
        if (result.complete() && health.trust(epoch)) {
            completed.incrementAndGet();
        }
    }

    /**
     * {@code keys} were written on {@code source} alone (a transaction, a blocking pop, which run on
     * one node's connection): copies them from it to their other live replicas, on the repair
     * thread. A replica the copy fails on loses trust, so it is repaired before it serves reads.
     */
    void copyAfter(BackendNode source, List<byte[]> keys) {
        if (closed) {
            return;
        }
        try {
            thread.execute(() -> {
                Map<BackendNode, List<byte[]>> byTarget = new java.util.LinkedHashMap<>();
                for (byte[] key : keys) {
                    for (BackendNode replica : pool.replicasFor(key).nodes()) {
                        if (replica != source && replica.health().isLive()) {
                            byTarget.computeIfAbsent(replica, n -> new java.util.ArrayList<>()).add(key);
                        }
                    }
                }
                byTarget.forEach((target, written) -> {
                    NodeRepair copy = new NodeRepair(pool.name(), target, pool.nodes(),
                            key -> pool.replicasFor(key).nodes(), n -> n == source, fence, client(),
                            pool.settings().commandTimeout(), BATCH);
                    NodeRepair.Result result = copy.repairKeys(written);
                    copied.addAndGet(result.copied());
                    deleted.addAndGet(result.deleted());
                    if (!result.complete()) {
                        target.health().distrust("copying " + written.size() + " keys written on " + source.name()
                                + " alone failed");
                    }
                });
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** A client touched {@code key}, whose replicas include a node waiting for repair. Safe from any thread. */
    void repairSoon(ReplicaSet replicas, byte[] key) {
        for (int i = 0; i < replicas.size(); i++) {
            NodeRepair repair = running.get(replicas.get(i));
            if (repair != null) {
                repair.repairSoon(key);
            }
        }
    }

    private RedisClient client() {
        if (client == null) {
            resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
            client = RedisClient.create(resources);
            // a node that drops during a run fails its keys at once; nothing is replayed after a reconnect
            client.setOptions(io.lettuce.core.ClientOptions.builder().autoReconnect(false)
                    .disconnectedBehavior(io.lettuce.core.ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
        }
        return client;
    }

    /** Repairs that made their node trusted again. */
    public long completed() {
        return completed.get();
    }

    public long keysCopied() {
        return copied.get();
    }

    public long keysDeleted() {
        return deleted.get();
    }

    /** The outcome of the last repair run, or null. */
    public NodeRepair.Result last() {
        return last;
    }

    /** Whether {@code node} is being repaired now. */
    public boolean repairing(BackendNode node) {
        return running.containsKey(node);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        running.values().forEach(NodeRepair::cancel);
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
