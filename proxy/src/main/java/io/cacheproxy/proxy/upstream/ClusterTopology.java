package io.cacheproxy.proxy.upstream;

import io.cacheproxy.config.HostAndPort;
import io.cacheproxy.routing.KeySlot;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane of a {@code type: cluster} pool: reads {@code CLUSTER SLOTS} from the seeds (then
 * from any master it knows) and keeps the pool's {@link ClusterSlots} current, every
 * {@link #REFRESH_INTERVAL}, soon after a MOVED reply ({@link #refreshSoon()}), and soon after a
 * connection to a node is lost or refused (a failover is under way). Nodes keep their
 * {@link BackendNode} identity across refreshes (one per address), so event loops keep their
 * connections. Lettuce speaks to the cluster here; the data path never waits for it. Thread-safe.
 *
 * <p>Masters that appear after start (a replica promoted by a failover, a node that slots were
 * resharded to) are announced once each to the {@link #onMaster} listeners (metrics, health
 * checks), on the thread that learned of them.
 */
public final class ClusterTopology implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClusterTopology.class);
    static final Duration REFRESH_INTERVAL = Duration.ofSeconds(5);
    private static final long MIN_REFRESH_GAP_MILLIS = 100;

    private final String pool;
    private final List<HostAndPort> seeds;
    private final ControlPlane plane;
    private final ConcurrentHashMap<String, BackendNode> nodesByAddress = new ConcurrentHashMap<>();
    private final AtomicBoolean refreshQueued = new AtomicBoolean();
    private final List<Consumer<BackendNode>> masterListeners = new CopyOnWriteArrayList<>();
    /** Every node announced to {@link #masterListeners} as a master, ever. */
    private final Set<BackendNode> announced = ConcurrentHashMap.newKeySet();
    private volatile ClusterSlots slots;
    private volatile long lastRefreshMillis;

    private ClusterTopology(String pool, List<HostAndPort> seeds, Duration timeout) {
        this.pool = pool;
        this.seeds = List.copyOf(seeds);
        this.plane = new ControlPlane("cacheproxy-cluster-" + pool, timeout);
    }

    /**
     * Reads the slot map from the seeds; fails, with every seed's answer, when none gives a map that
     * covers all 16384 slots. Then refreshes it in the background until {@link #close()}.
     */
    public static ClusterTopology start(String pool, List<HostAndPort> seeds, Duration timeout) {
        ClusterTopology topology = new ClusterTopology(pool, seeds, timeout);
        try {
            topology.refresh(true);
        } catch (RuntimeException e) {
            topology.close();
            throw e;
        }
        long period = REFRESH_INTERVAL.toMillis();
        topology.plane.timer().scheduleWithFixedDelay(() -> topology.refresh(false), period, period, TimeUnit.MILLISECONDS);
        return topology;
    }

    public ClusterSlots slots() {
        return slots;
    }

    /** The node at {@code host:port}, the same object every time (new nodes appear after resharding). */
    public BackendNode node(String host, int port) {
        return nodesByAddress.computeIfAbsent(host + ":" + port, a -> {
            BackendNode node = new BackendNode(pool, host, port);
            // a master that stops answering may have failed over: learn the new map without waiting for the timer
            node.onLost(this::refreshSoon);
            return node;
        });
    }

    /** The node of a CLUSTER SLOTS entry {@code [host, port, id, ...]}; an empty host means "the node you asked". */
    private BackendNode node(List<?> entry, HostAndPort askedNode) {
        Object host = entry.get(0);
        String h = host == null || host.toString().isEmpty() ? askedNode.host() : host.toString();
        return node(h, ((Number) entry.get(1)).intValue());
    }

    /** A MOVED reply said {@code slot} is served by {@code node}: use it now, and re-read the whole map soon. */
    public void moved(int slot, BackendNode node) {
        slots = slots.with(slot, node);
        refreshSoon();
        if (!announced.contains(node)) {
            announce(List.of(node));
        }
    }

    /**
     * Calls {@code listener} with each master the slot map has now, then with each master learned
     * later, on the thread that learned it (the control plane's, or an event loop's after a MOVED).
     * A master is announced once, even if it stops being one and becomes one again; the listener
     * may still see a node twice when it is added while a master is being announced, so it must
     * be idempotent.
     */
    public void onMaster(Consumer<BackendNode> listener) {
        masterListeners.add(listener);
        slots.masters().forEach(listener);
    }

    private void announce(List<BackendNode> masters) {
        for (BackendNode master : masters) {
            if (announced.add(master)) {
                for (Consumer<BackendNode> listener : masterListeners) {
                    try {
                        listener.accept(master);
                    } catch (RuntimeException e) {
                        log.warn("pool {}: a listener failed on the new master {}", pool, master.name(), e);
                    }
                }
            }
        }
    }

    /** Re-reads the map in the background, at most once per 100 ms. */
    public void refreshSoon() {
        if (refreshQueued.compareAndSet(false, true)) {
            long wait = Math.max(0, lastRefreshMillis + MIN_REFRESH_GAP_MILLIS - System.currentTimeMillis());
            plane.timer().schedule(() -> {
                refreshQueued.set(false);
                refresh(false);
            }, wait, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void refresh(boolean required) {
        lastRefreshMillis = System.currentTimeMillis();
        Set<HostAndPort> candidates = new LinkedHashSet<>();
        ClusterSlots known = slots;
        if (known != null) {
            for (BackendNode master : known.masters()) {
                candidates.add(new HostAndPort(master.host(), master.port()));
            }
        }
        candidates.addAll(seeds);
        List<String> answers = new ArrayList<>();
        for (HostAndPort candidate : candidates) {
            try (StatefulRedisConnection<String, String> connection =
                         plane.client().connect(plane.uri(candidate))) {
                // [[from, to, [master host, port, id, ...], [replica host, port, id, ...], ...], ...]
                List<Object> ranges = connection.sync().clusterSlots();
                BackendNode[] bySlot = new BackendNode[KeySlot.SLOTS];
                Map<BackendNode, List<BackendNode>> replicas = new HashMap<>();
                int covered = 0;
                for (Object r : ranges) {
                    List<?> range = (List<?>) r;
                    int from = ((Number) range.get(0)).intValue();
                    int to = ((Number) range.get(1)).intValue();
                    BackendNode node = node((List<?>) range.get(2), candidate);
                    List<BackendNode> its = new ArrayList<>();
                    for (int i = 3; i < range.size(); i++) {
                        its.add(node((List<?>) range.get(i), candidate));
                    }
                    replicas.put(node, its);
                    for (int s = from; s <= to; s++) {
                        bySlot[s] = node;
                        covered++;
                    }
                }
                if (covered < KeySlot.SLOTS) {
                    answers.add(candidate + ": covers " + covered + " of " + KeySlot.SLOTS + " slots");
                    continue;
                }
                ClusterSlots fresh = new ClusterSlots(bySlot, replicas);
                if (known != null && !fresh.masters().equals(known.masters())) {
                    log.info("pool {}: cluster masters now {}", pool, fresh.masters().stream().map(BackendNode::name).toList());
                }
                slots = fresh;
                announce(fresh.masters());
                return;
            } catch (RuntimeException e) {
                answers.add(candidate + ": " + e.getMessage());
            }
        }
        if (required) {
            throw new IllegalStateException("pools." + pool + ": no node gave a complete cluster slot map: "
                    + String.join("; ", answers));
        }
        log.warn("pool {}: cluster slot map not refreshed: {}", pool, String.join("; ", answers));
    }

    @Override
    public void close() {
        plane.close();
    }
}
